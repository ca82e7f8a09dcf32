package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// rawGet sends a GET for the API endpoint on c, with the given
// Authorization header ("" for none), and reads the answer.
func rawGet(t *testing.T, c net.Conn, br *bufio.Reader, endpoint, auth string) *http.Response {
	t.Helper()
	req := "GET " + snapshot.APIPath + endpoint + " HTTP/1.1\r\nHost: agent\r\n"
	if auth != "" {
		req += "Authorization: " + auth + "\r\n"
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// closedByServer reports whether the server closes c (a read ends with
// EOF or a reset) within wait; a timeout means it kept c open.
func closedByServer(c net.Conn, br *bufio.Reader, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestAgentClosesUnauthorized: a connection whose request lacks the
// token is answered 401 and closed, so that it holds nothing of the
// program's; an authorized one stays open for the next request.
func TestAgentClosesUnauthorized(t *testing.T) {
	a := startAgent(t, Options{NoDiscovery: true})
	for _, tt := range []struct {
		name, auth string
		status     int
		closed     bool
	}{
		{"no token", "", http.StatusUnauthorized, true},
		{"wrong token", "Bearer " + strings.Repeat("0", 64), http.StatusUnauthorized, true},
		{"right token", "Bearer " + a.Token(), http.StatusOK, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", a.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			if resp := rawGet(t, c, br, snapshot.EndpointInfo, tt.auth); resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			// Generous when the agent must close, short when it must
			// not: either way a slow machine cannot make it pass wrongly.
			wait := 5 * time.Second
			if !tt.closed {
				wait = 500 * time.Millisecond
			}
			if got := closedByServer(c, br, wait); got != tt.closed {
				t.Errorf("closed by the agent after the answer: %v, want %v", got, tt.closed)
			}
		})
	}
}

// TestAgentConnectionLimit opens more connections than the agent serves
// at once, none sending anything: past the limit, each is answered 503
// with the code unavailable and closed at once, rather than held.
func TestAgentConnectionLimit(t *testing.T) {
	a := startAgent(t, Options{NoDiscovery: true})
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for range DefaultMaxConns {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	refused := 0
	for i := range 8 {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET "+snapshot.APIPath+"info HTTP/1.1\r\nHost: agent\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("connection %d past the limit: %v, want a 503", i, err)
			c.Close()
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		var e snapshot.AgentError
		json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusServiceUnavailable || e.Code != snapshot.ErrCodeUnavailable || resp.Header.Get(snapshot.ProtocolHeader) != "1" {
			t.Errorf("connection %d past the limit: %d %s, want 503 with code %s", i, resp.StatusCode, body, snapshot.ErrCodeUnavailable)
		} else {
			refused++
		}
		if !closedByServer(c, br, 5*time.Second) {
			t.Errorf("connection %d past the limit was kept open", i)
		}
		c.Close()
	}
	// Once the connections holding the slots go, the agent serves again.
	for _, c := range held {
		c.Close()
	}
	held = nil
	cl := newAgentClient(t, a)
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _ := cl.get(t.Context(), snapshot.EndpointInfo)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent still answers %d after the connections holding its slots closed", status)
		}
		time.Sleep(10 * time.Millisecond) // polling for the agent to see them close, not for timing
	}
}

// TestAgentProfileHead: HEAD on the profile endpoint answers at once,
// with the headers a GET would get and no body, without profiling.
func TestAgentProfileHead(t *testing.T) {
	a := startAgent(t, Options{NoDiscovery: true})
	profiled := make(chan snapshot.ProfileKind, 4)
	a.handler.profileStarted = func(k snapshot.ProfileKind) { profiled <- k }
	c := newAgentClient(t, a)
	for _, q := range []string{"kind=cpu&seconds=30", "kind=wall&seconds=30", "kind=heap", "kind=goroutine"} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		resp := c.do(ctx, http.MethodHead, snapshot.APIPath+"profile?"+q, "Bearer "+a.Token(), nil)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("HEAD profile?%s: %d %q", q, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	resp := c.do(t.Context(), http.MethodHead, snapshot.APIPath+"profile?kind=nosuch", "Bearer "+a.Token(), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("HEAD profile?kind=nosuch: %d, want 400", resp.StatusCode)
	}
	select {
	case k := <-profiled:
		t.Errorf("HEAD took a %s profile", k)
	default:
	}
}
