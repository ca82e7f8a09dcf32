package probe_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/httptop/httptop/probe"
)

// Start the agent in a program, so that the httptop command can attach to
// it. The zero AgentOptions listen on 127.0.0.1 on a port the system
// picks and write a discovery file; this example skips the file.
func ExampleStart() {
	ag, err := probe.Start(probe.AgentOptions{NoDiscovery: true})
	if err != nil {
		panic(err)
	}
	defer ag.Close()
	fmt.Println(strings.HasPrefix(ag.Addr(), "127.0.0.1:"), len(ag.Token()))
	// Output: true 64
}

// Serve the agent protocol from a server the program already runs. The
// httptop command then needs the address and the token:
// HTTPTOP_TOKEN=TOKEN httptop snapshot HOST:PORT.
func ExampleHandler() {
	token := probe.NewToken()
	mux := http.NewServeMux()
	mux.Handle(probe.APIPath, probe.Handler(probe.Default(), token))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+probe.APIPath+"info", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get(probe.ProtocolHeader))
	// Output: 200 1
}
