package agent

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// appendSnapshot appends s as JSON, exactly as encoding/json encodes it
// (json.Marshal, or a json.Encoder without its newline), to b.
//
// A program with thousands of connections sends thousands of Conn
// records a second to a dashboard; encoding/json spends most of the
// agent's time on them, by reflection. So the connection table is written
// by hand (appendConn) and spliced into what encoding/json writes for the
// rest. TestAppendSnapshotMatchesEncodingJSON keeps the two identical.
//
// The IDs of a snapshot of connection changes (ConnIDs) are written by hand
// too, as the last key, where encoding/json writes them.
func appendSnapshot(b []byte, s *snapshot.Snapshot) ([]byte, error) {
	conns := s.Conns
	if conns == nil {
		data, err := json.Marshal(s)
		return append(b, data...), err
	}
	head := *s
	head.Conns, head.ConnIDs = nil, nil
	data, err := json.Marshal(&head)
	if err != nil {
		return b, err
	}
	// Snapshot's only "conns" key is its own, followed by "diagnoses":
	// neither Process nor Host has a key of that name.
	const null = `,"conns":null,`
	i := bytes.Index(data, []byte(null))
	if i < 0 {
		data, err := json.Marshal(s)
		return append(b, data...), err
	}
	b = slices.Grow(b, len(data)+len(conns)*connJSONSize)
	b = append(b, data[:i]...)
	b = append(b, `,"conns":[`...)
	var e connEncoder
	for j := range conns {
		if j > 0 {
			b = append(b, ',')
		}
		b = e.appendConn(b, &conns[j])
	}
	b = append(b, "],"...)
	if len(s.ConnIDs) == 0 {
		return append(b, data[i+len(null):]...), nil
	}
	// ConnIDs is Snapshot's last field: its key goes before the closing
	// brace.
	b = append(b, data[i+len(null):len(data)-1]...)
	b = append(b, `,"conn_ids":[`...)
	for j, id := range s.ConnIDs {
		if j > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, id, 10)
	}
	return append(b, "]}"...), nil
}

// connJSONSize is about what one connection's JSON takes, TLS included.
const connJSONSize = 512

// connEncoder encodes the connections of one table. Most of their
// strings (client, host, protocol, state, peer, TLS version, cipher) and
// certificates' expiry are those of the row before: it remembers the last
// of each it checked or formatted, so that a string equal to the last one
// found plain is copied without looking at its bytes again (comparing
// strings that share their bytes takes no time at all), and an expiry is
// formatted once.
type connEncoder struct {
	plain    [nPlainFields]string // the last plain string of each field
	notAfter time.Time            // the last expiry formatted
	after    []byte               // its text, quoted
}

// Fields of a connection whose last plain string connEncoder remembers.
const (
	fieldClient = iota
	fieldHost
	fieldProto
	fieldState
	fieldRemote
	fieldTLSVersion
	fieldCipher
	fieldALPN
	fieldServerName
	nPlainFields
)

// appendConn appends c as encoding/json encodes a snapshot.Conn.
func (e *connEncoder) appendConn(b []byte, c *snapshot.Conn) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, c.ID, 10)
	b = e.appendKeyString(b, fieldClient, `,"client":`, c.Client)
	b = e.appendKeyString(b, fieldHost, `,"host":`, c.Host)
	b = e.appendKeyString(b, fieldProto, `,"proto":`, c.Proto)
	b = e.appendKeyString(b, fieldState, `,"state":`, string(c.State))
	b = appendFloat(append(b, `,"age_s":`...), c.AgeSeconds)
	b = appendFloat(append(b, `,"idle_s":`...), c.IdleSeconds)
	b = strconv.AppendInt(append(b, `,"requests":`...), c.Requests, 10)
	b = strconv.AppendInt(append(b, `,"streams":`...), int64(c.Streams), 10)
	b = strconv.AppendInt(append(b, `,"max_streams":`...), int64(c.MaxStreams), 10)
	b = strconv.AppendInt(append(b, `,"bytes_in":`...), c.BytesIn, 10)
	b = strconv.AppendInt(append(b, `,"bytes_out":`...), c.BytesOut, 10)
	b = appendFloat(append(b, `,"dial_ms":`...), c.DialMs)
	if c.LocalAddr != "" {
		b = appendKeyString(b, `,"local_addr":`, c.LocalAddr)
	}
	if c.RemoteAddr != "" {
		b = e.appendKeyString(b, fieldRemote, `,"remote_addr":`, c.RemoteAddr)
	}
	if c.Inferred {
		b = append(b, `,"inferred":true`...)
	}
	b = strconv.AppendInt(append(b, `,"mem_bytes":`...), c.MemBytes, 10)
	if c.MemEstimated {
		b = append(b, `,"mem_estimated":true`...)
	}
	if t := c.TLS; t != nil {
		b = e.appendKeyString(b, fieldTLSVersion, `,"tls":{"version":`, t.Version)
		b = e.appendKeyString(b, fieldCipher, `,"cipher":`, t.Cipher)
		b = e.appendKeyString(b, fieldALPN, `,"alpn":`, t.ALPN)
		b = strconv.AppendBool(append(b, `,"resumed":`...), t.Resumed)
		if t.ServerName != "" {
			b = e.appendKeyString(b, fieldServerName, `,"server_name":`, t.ServerName)
		}
		b = appendFloat(append(b, `,"handshake_ms":`...), t.HandshakeMs)
		b = strconv.AppendInt(append(b, `,"peer_certs":`...), int64(t.PeerCerts), 10)
		b = strconv.AppendInt(append(b, `,"peer_cert_bytes":`...), int64(t.PeerCertBytes), 10)
		if !t.LeafNotAfter.IsZero() {
			b = e.appendNotAfter(b, t.LeafNotAfter)
		}
		b = strconv.AppendInt(append(b, `,"mem_bytes":`...), t.MemBytes, 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendKeyString is appendKeyString remembering the last plain string of
// field.
func (e *connEncoder) appendKeyString(b []byte, field int, key, s string) []byte {
	if s == e.plain[field] {
		b = append(b, key...)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	if plainString(s) {
		e.plain[field] = s
	}
	return appendKeyString(b, key, s)
}

// appendNotAfter appends a certificate's expiry as its "leaf_not_after"
// key, as time.Time's MarshalJSON writes it (RFC 3339 with nanoseconds,
// quoted), or nothing for a year outside 0-9999, which encoding/json
// refuses too.
func (e *connEncoder) appendNotAfter(b []byte, t time.Time) []byte {
	// == rather than Equal: the same instant in another zone is
	// written otherwise.
	if e.after == nil || t != e.notAfter {
		text, err := t.AppendText(append(e.after[:0], '"'))
		if err != nil {
			return b
		}
		e.notAfter, e.after = t, append(text, '"')
	}
	b = append(b, `,"leaf_not_after":`...)
	return append(b, e.after...)
}

// plainString reports whether s is made only of plainJSON bytes.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			return false
		}
	}
	return true
}

// appendKeyString appends key and s as a JSON string, escaped as
// encoding/json escapes it (HTML characters included). Plain ASCII, what
// hosts, addresses and protocol names are made of, is copied; anything
// else goes through encoding/json.
func appendKeyString(b []byte, key, s string) []byte {
	b = append(b, key...)
	if !plainString(s) {
		data, _ := json.Marshal(s) // a string always encodes
		return append(b, data...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON holds the bytes encoding/json writes as they are in a string:
// printable ASCII but for the quote, the backslash and the characters it
// escapes for HTML.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendFloat appends f as encoding/json encodes a float64: the shortest
// decimal, in exponent form below 1e-6 and from 1e21, with the exponent's
// leading zero dropped. NaN and infinities, which encoding/json refuses,
// are written as 0.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
