package tracer

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/httptop/httptop/poolstats"
)

// onlyConn hides every method of a connection but net.Conn's.
type onlyConn struct{ net.Conn }

// writeShutConn has CloseWrite but not CloseRead.
type writeShutConn struct{ net.Conn }

func (writeShutConn) CloseWrite() error { return errShut }

var errShut = errors.New("shut")

// TestDialKeepsHalfClose dials connections with and without CloseWrite
// and CloseRead: the wrapper has exactly the ones the connection has, and
// the tracer finds its record whichever wrapper it is.
func TestDialKeepsHalfClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 8)
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	defer func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	stats := poolstats.New(poolstats.Options{})
	tr := New(stats, stats.Client("c"), Options{})
	for _, tt := range []struct {
		name         string
		wrap         func(net.Conn) net.Conn
		write, read  bool
		closeWriteIs error
	}{
		{"TCPConn", func(c net.Conn) net.Conn { return c }, true, true, nil},
		{"CloseWrite only", func(c net.Conn) net.Conn { return writeShutConn{c} }, true, false, errShut},
		{"neither", func(c net.Conn) net.Conn { return onlyConn{c} }, false, false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dial := tr.Dial(func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return tt.wrap(c), nil
			})
			c, err := dial(context.Background(), "tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cw, hasWrite := c.(interface{ CloseWrite() error })
			cr, hasRead := c.(interface{ CloseRead() error })
			if hasWrite != tt.write || hasRead != tt.read {
				t.Fatalf("%T: CloseWrite %v CloseRead %v, want %v %v", c, hasWrite, hasRead, tt.write, tt.read)
			}
			if hasWrite {
				if err := cw.CloseWrite(); !errors.Is(err, tt.closeWriteIs) {
					t.Errorf("CloseWrite = %v, want %v", err, tt.closeWriteIs)
				}
			}
			if hasRead {
				if err := cr.CloseRead(); err != nil {
					t.Errorf("CloseRead = %v", err)
				}
			}
			if recordOf(c) == nil {
				t.Errorf("no record for %T", c)
			}
			if nc, ok := c.(interface{ NetConn() net.Conn }); !ok || nc.NetConn() == nil {
				t.Errorf("%T has no NetConn", c)
			}
		})
	}
}
