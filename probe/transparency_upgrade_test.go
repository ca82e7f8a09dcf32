package probe_test

// Transparency of protocol upgrades: a 101 response's body stays the
// connection, and a half-close (CloseWrite) reaches it.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestTransparencyUpgrade switches protocols with a real server: the 101
// response's body must stay the connection's io.ReadWriteCloser.
func TestTransparencyUpgrade(t *testing.T) {
	tpRunCases(t, []tpCase{{name: "101 Switching Protocols over HTTP/1.1", run: func(e *tpEnv) {
		srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Upgrade") != "echo" {
				http.Error(w, "upgrade required", http.StatusUpgradeRequired)
				return
			}
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Test-Upgraded: yes\r\n\r\n")
			brw.Flush()
			for {
				line, err := brw.ReadString('\n')
				if err != nil {
					return
				}
				brw.WriteString("echo: " + line)
				brw.Flush()
			}
		}))
		c := e.client(srv.transport())
		rec := &tpHookRec{}
		req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/up", nil), rec)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := c.Do(req)
		e.note("do: %s", tpDescribeErr(err))
		if err != nil {
			return
		}
		e.noteHead("upgrade", req, resp)
		rw, ok := resp.Body.(io.ReadWriteCloser)
		e.note("body is a ReadWriteCloser: %v (%T)", ok, resp.Body)
		e.want(ok, "the 101 response's body is not an io.ReadWriteCloser")
		if !ok {
			resp.Body.Close()
			return
		}
		br := bufio.NewReader(rw)
		for _, msg := range []string{"ping", "pong"} {
			_, werr := io.WriteString(rw, msg+"\n")
			line, rerr := br.ReadString('\n')
			e.note("wrote %q %s, read %q %s", msg, tpDescribeErr(werr), line, tpDescribeErr(rerr))
		}
		e.note("close: %s", tpDescribeErr(rw.Close()))
		e.note("reused=%v server open=%d", rec.reuses(), tpWaitOpen(srv, 0))
	}}, {name: "101 then an echo that ends with a half-close (CloseWrite)", run: func(e *tpEnv) {
		// The server echoes until the client shuts its side down, then
		// says goodbye and closes: the client can only read the goodbye
		// if CloseWrite reached the TCP connection.
		srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
			brw.Flush()
			n, err := io.Copy(brw, brw.Reader) // until the client's FIN
			fmt.Fprintf(brw, "\nbye after %d bytes (%v)\n", n, err)
			brw.Flush()
		}))
		c := e.client(srv.transport())
		req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/up", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := c.Do(req)
		e.note("do: %s", tpDescribeErr(err))
		if err != nil {
			return
		}
		e.noteHead("upgrade", req, resp)
		rw, ok := resp.Body.(io.ReadWriteCloser)
		cw, canHalfClose := resp.Body.(interface{ CloseWrite() error })
		e.note("ReadWriteCloser %v, CloseWrite %v", ok, canHalfClose)
		if !ok || !canHalfClose {
			resp.Body.Close()
			return
		}
		// Should the server never see the half-close, nothing ends the
		// echo: close the connection after a while, so the run ends
		// and shows what it read.
		stop := time.AfterFunc(tpWaitFor, func() { rw.Close() })
		defer stop.Stop()
		_, werr := io.WriteString(rw, "one\ntwo\n")
		e.note("write: %s", tpDescribeErr(werr))
		e.note("close write: %s", tpDescribeErr(cw.CloseWrite()))
		all, rerr := io.ReadAll(rw)
		e.note("read %q %s", all, tpDescribeErr(rerr))
		e.note("close: %s", tpDescribeErr(rw.Close()))
		e.note("server open=%d", tpWaitOpen(srv, 0))
	}}})
}
