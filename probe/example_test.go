package probe_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/httptop/httptop/probe"
)

// Wrap a client's transport, make requests, and read what the probe saw.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()

	col := probe.NewCollector(probe.CollectorOptions{}) // or probe.Default()
	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: probe.Wrap(transport, probe.WithCollector(col), probe.WithName("api"))}

	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	s := col.Snapshot()
	h := s.Hosts[0]
	fmt.Printf("client %s: %d requests, %d new connection, %d reused; %d open, %d idle\n",
		h.Client, h.Requests, h.NewConns, h.ReusedConns, h.Open, h.Idle)
	fmt.Println("idle pool limit:", h.MaxIdleConnsPerHost)
	// Output:
	// client api: 3 requests, 1 new connection, 2 reused; 1 open, 1 idle
	// idle pool limit: 8
}
