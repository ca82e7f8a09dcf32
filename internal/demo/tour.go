package demo

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/probe"
)

// signKey signs the catalog client's requests; the CPU it takes is part
// of what the hot-functions pane shows.
var signKey = []byte("httptop-demo-signing-key")

// exportLeakAfter is the export client's LeakAfter: short, so that the
// leak shows within seconds.
const exportLeakAfter = 3 * time.Second

// maxLeaked bounds the bodies the export client leaks.
const maxLeaked = 40

func (d *Demo) startTour(ctx context.Context) error {
	for _, start := range []func(context.Context) error{
		d.catalog, d.payments, d.search, d.auth, d.export, d.llm,
	} {
		if err := start(ctx); err != nil {
			return err
		}
	}
	return nil
}

// catalog is healthy: HTTP/2, a fast server, a pool that is never short.
// Its workers sign every request and decode every answer.
func (d *Demo) catalog(ctx context.Context) error {
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTP2,
		Defaults: fixtures.Behavior{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond, Size: 8 << 10}})
	if err != nil {
		return err
	}
	c := d.client("catalog", srv.Transport())
	req := fixtures.Request{URL: srv.URLFor("/json", fixtures.Behavior{}), SignKey: signKey, Decode: true}
	d.run(ctx, "catalog", func(ctx context.Context) error {
		_, err := fixtures.ClosedLoop{Workers: 8, Think: 10 * time.Millisecond}.Run(ctx, c, req)
		return ignoreStop(ctx, err)
	})
	return nil
}

// payments saturates its pool: 32 workers share MaxConnsPerHost 4 against
// a 50 ms server, so 28 wait about 350 ms each.
func (d *Demo) payments(ctx context.Context) error {
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTP1,
		Defaults: fixtures.Behavior{Latency: 50 * time.Millisecond}})
	if err != nil {
		return err
	}
	t := srv.Transport()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost = 4, 4
	c := d.client("payments", t)
	req := fixtures.Request{URL: srv.URL + "/charge", Body: make([]byte, 512)}
	d.run(ctx, "payments", func(ctx context.Context) error {
		_, err := fixtures.ClosedLoop{Workers: 32}.Run(ctx, c, req)
		return ignoreStop(ctx, err)
	})
	return nil
}

// search fans out batches of 50 against the default idle pool of 2
// connections per host: 48 connections are closed after every batch and
// dialed again for the next.
func (d *Demo) search(ctx context.Context) error {
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTP1,
		Defaults: fixtures.Behavior{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Size: 2 << 10}})
	if err != nil {
		return err
	}
	c := d.client("search", srv.Transport())
	req := fixtures.Request{URL: srv.URL + "/query"}
	d.run(ctx, "search", func(ctx context.Context) error {
		_, err := fixtures.Batches{Size: 50, Pause: 150 * time.Millisecond}.Run(ctx, c, req)
		return ignoreStop(ctx, err)
	})
	return nil
}

// auth talks to a slow TLS host that closes every connection after one
// request: each request pays a full 120 ms handshake, and the client keeps
// no TLS session cache to resume with.
func (d *Demo) auth(ctx context.Context) error {
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTPS1, TLSHandshakeDelay: 120 * time.Millisecond,
		DisableKeepAlives: true, Defaults: fixtures.Behavior{Latency: 2 * time.Millisecond}})
	if err != nil {
		return err
	}
	c := d.client("auth", srv.Transport())
	req := fixtures.Request{URL: srv.URL + "/token"}
	d.run(ctx, "auth", func(ctx context.Context) error {
		_, err := fixtures.ClosedLoop{Workers: 2, Think: 100 * time.Millisecond}.Run(ctx, c, req)
		return ignoreStop(ctx, err)
	})
	return nil
}

// export leaks one response body in four: it neither reads nor closes it.
func (d *Demo) export(ctx context.Context) error {
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTP1,
		Defaults: fixtures.Behavior{Latency: 20 * time.Millisecond, Size: 16 << 10}})
	if err != nil {
		return err
	}
	c := d.client("export", srv.Transport(), probe.WithLeakAfter(exportLeakAfter))
	d.run(ctx, "export", func(ctx context.Context) error {
		return d.exportLoop(ctx, c, srv.URL+"/report.csv")
	})
	return nil
}

// exportLoop downloads reports, forgetting to close one response in four
// (until maxLeaked are open).
func (d *Demo) exportLoop(ctx context.Context, c *http.Client, url string) error {
	for i := 0; ctx.Err() == nil; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err != nil {
			return ignoreStop(ctx, err)
		}
		if i%4 == 3 && d.keepLeaked(resp) {
			continue // the bug: this body is never closed
		}
		if err := drain(resp); err != nil {
			return ignoreStop(ctx, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// keepLeaked remembers a response left open, so that Close can release
// it, and reports false once maxLeaked are open.
func (d *Demo) keepLeaked(resp *http.Response) bool {
	d.leakMu.Lock()
	defer d.leakMu.Unlock()
	if len(d.leaked) >= maxLeaked {
		return false
	}
	d.leaked = append(d.leaked, resp)
	return true
}

// llm reads token streams: each response stays open for about two
// seconds while its events arrive, which is a stream, not a leak.
func (d *Demo) llm(ctx context.Context) error {
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTP2,
		Defaults: fixtures.Behavior{Tokens: 40, TokenInterval: 50 * time.Millisecond}})
	if err != nil {
		return err
	}
	c := d.client("llm", srv.Transport())
	req := fixtures.Request{URL: srv.URL + "/sse"}
	d.run(ctx, "llm", func(ctx context.Context) error {
		_, err := fixtures.ClosedLoop{Workers: 3, Think: 300 * time.Millisecond}.Run(ctx, c, req)
		return ignoreStop(ctx, err)
	})
	return nil
}

// ingestCPU is the CPU the ingest client spends on each request, as
// signing, serialising and compressing a batch would.
const ingestCPU = 2 * time.Millisecond

// ingest is bound by its own CPU: 64 workers that each spend ingestCPU
// before every request, sharing MaxConnsPerHost 16 against a 20 ms
// server. Sixteen connections carry 800 req/s, which would take 1.8
// cores; on two cores the CPU binds at about 900 req/s, well before the
// 3,200 the 64 connections the pool advice asks for would carry.
func (d *Demo) ingest(ctx context.Context) error {
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTP1,
		Defaults: fixtures.Behavior{Latency: 20 * time.Millisecond}})
	if err != nil {
		return err
	}
	t := srv.Transport()
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost = 16, 16
	c := d.client("ingest", t)
	req := fixtures.Request{URL: srv.URL + "/ingest", Body: make([]byte, 1024), CPU: ingestCPU}
	d.run(ctx, "ingest", func(ctx context.Context) error {
		_, err := fixtures.ClosedLoop{Workers: 64}.Run(ctx, c, req)
		return ignoreStop(ctx, err)
	})
	return nil
}

// drain reads a body to EOF and closes it.
func drain(resp *http.Response) error {
	_, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}
