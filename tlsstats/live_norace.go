//go:build !race

package tlsstats

import (
	"bytes"
	"crypto/tls"
	"reflect"
	"sync"
)

// LiveBuffers is true when Measure reads the live capacities of a
// tls.Conn's record buffers. It is false in race-enabled builds, where
// those reads would be reported as data races (see the package
// documentation) and a model stands in for them.
const LiveBuffers = true

// bufferFields locates the record buffers in tls.Conn, once per process:
// rawInput and hand (bytes.Buffer, whose storage is the unexported slice
// buf) and sendBuf ([]byte). It returns nil when this Go version's tls.Conn
// does not have them as expected.
var bufferFields = sync.OnceValue(func() *[3][]int {
	conn := reflect.TypeFor[tls.Conn]()
	bufField, ok := reflect.TypeFor[bytes.Buffer]().FieldByName("buf")
	if !ok || bufField.Type != reflect.TypeFor[[]byte]() {
		return nil
	}
	var idx [3][]int
	for i, name := range [...]string{"rawInput", "hand"} {
		f, ok := conn.FieldByName(name)
		if !ok || f.Type != reflect.TypeFor[bytes.Buffer]() {
			return nil
		}
		idx[i] = append(append([]int(nil), f.Index...), bufField.Index...)
	}
	f, ok := conn.FieldByName("sendBuf")
	if !ok || f.Type != reflect.TypeFor[[]byte]() {
		return nil
	}
	idx[2] = f.Index
	return &idx
})

// readBuffers returns the capacities of tc's raw input, handshake and send
// buffers, or false when they cannot be read.
//
// The capacities are read with package reflect, which may read another
// package's unexported fields (Len, Cap) but never write them. The read is
// not synchronised with the connection's read loop, which may be growing
// rawInput at that moment: a word-sized integer read can only see the old
// capacity or the new one, and nothing is dereferenced, so the worst case
// is a figure one read out of date. The race detector reports such reads
// all the same, which is why race-enabled builds do not make them.
func readBuffers(tc *tls.Conn) (raw, hand, send int64, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	idx := bufferFields()
	if idx == nil || tc == nil {
		return 0, 0, 0, false
	}
	v := reflect.ValueOf(tc).Elem()
	raw = int64(v.FieldByIndex(idx[0]).Cap())
	hand = int64(v.FieldByIndex(idx[1]).Cap())
	send = int64(v.FieldByIndex(idx[2]).Cap())
	return raw, hand, send, true
}
