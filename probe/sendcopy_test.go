package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestReusedCopiesCarryTheirRequest sends requests of many shapes through
// the probe from several goroutines at once, over a pool too small for
// them, so that spans send again the request copies they sent before
// (tracer.sendCopy): each response must echo its own request (method,
// path, header, body), come back with the program's request in
// Response.Request, and the race detector must see no copy written while
// the transport still reads it.
func TestReusedCopiesCarryTheirRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("close") != "" {
			w.Header().Set("Connection", "close")
		}
		if r.Method == http.MethodHead || r.URL.Query().Get("empty") != "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		fmt.Fprintf(w, "%s %s %s %s", r.Method, r.URL.Path, r.Header.Get("X-N"), body)
		if r.URL.Query().Get("long") != "" {
			io.WriteString(w, strings.Repeat(".", 64<<10))
		}
	}))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: Wrap(tr, WithCollector(NewCollector(CollectorOptions{})))}

	const workers, perWorker = 4, 300
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if err := sendShape(client, srv.URL, w, i); err != nil {
					errs <- fmt.Errorf("worker %d, request %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// sendShape sends request i of worker w, its shape picked by i, and checks
// what comes back.
func sendShape(client *http.Client, base string, w, i int) error {
	path := fmt.Sprintf("/w%d/r%d", w, i)
	n := fmt.Sprint(w*100000 + i)
	method, body, query := http.MethodGet, "", ""
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readAll := true
	switch i % 8 {
	case 1:
		method, body = http.MethodPost, "body-"+n
	case 2:
		method = http.MethodHead
	case 3:
		query = "?close=1"
	case 4:
		query = "?long=1"
		readAll = false // closed early: the connection is not reused
	case 5:
		query = "?empty=1"
	}
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path+query, rb)
	if err != nil {
		return err
	}
	req.Header.Set("X-N", n)
	if i%8 == 6 {
		req.Cancel = make(chan struct{}) //lint:ignore SA1019 the deprecated way must keep working (never closed: sent as usual)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Request != req {
		return fmt.Errorf("Response.Request is %p, not the request sent (%p)", resp.Request, req)
	}
	want := fmt.Sprintf("%s %s %s %s", method, path, n, body)
	if method == http.MethodHead || query == "?empty=1" {
		want = ""
	}
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	if string(buf) != want {
		return fmt.Errorf("response %q, want %q", buf, want)
	}
	if readAll {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
	}
	return nil
}
