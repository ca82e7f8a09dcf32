package agent_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/probe/agent"
	"github.com/httptop/httptop/snapshot"
)

// Start the agent in a program, so that the httptop command can attach to
// it. The zero Options listen on 127.0.0.1 on a port the system
// picks and write a discovery file; this example skips the file.
func ExampleStart() {
	ag, err := agent.Start(agent.Options{NoDiscovery: true})
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
	token := agent.NewToken()
	mux := http.NewServeMux()
	mux.Handle(snapshot.APIPath, agent.Handler(probe.Default(), token))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+snapshot.APIPath+"info", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get(snapshot.ProtocolHeader))
	// Output: 200 1
}
