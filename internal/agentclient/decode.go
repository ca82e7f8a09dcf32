package agentclient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/httptop/httptop/snapshot"
)

// Limits on what the client reads from an agent. A reply above its limit
// is an error, never a larger allocation. A snapshot of the 4,096 hosts a
// collector tracks at most, with their series, is about 50 MB; a real
// profile (gzipped) a few MB. A capture holds at most one reply of each
// kind at once (its CPU and wall-clock profiles run side by side).
const (
	maxInfoBytes     = 64 << 10
	maxErrorBytes    = 4 << 10
	maxSnapshotBytes = 64 << 20
	maxProfileBytes  = 32 << 20
)

// errTooLarge is wrapped by reads that hit their limit.
var errTooLarge = errors.New("reply too large")

// readLimited reads r to its end, failing with errTooLarge past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, max)
	}
	return data, nil
}

// readLine reads one line of a stream (without its '\n'), failing with
// errTooLarge past max bytes. At the end of the stream it returns io.EOF,
// or io.ErrUnexpectedEOF when a partial line came first.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > max+1 { // +1: the '\n'
			return nil, fmt.Errorf("%w: a line of more than %d bytes", errTooLarge, max)
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// decodeOne decodes data, which must hold exactly one JSON value, into v.
func decodeOne(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// decodeInfo decodes and checks an info reply: it must come from an
// httptop agent (ErrNotAgent otherwise) speaking this protocol and
// snapshot version (ErrVersion otherwise).
func decodeInfo(data []byte) (snapshot.AgentInfo, error) {
	var in snapshot.AgentInfo
	if len(data) > maxInfoBytes {
		return in, newError(ErrNotAgent, errTooLarge, "the info reply is larger than %d bytes", maxInfoBytes)
	}
	if err := decodeOne(data, &in); err != nil {
		return in, newError(ErrNotAgent, err, "the info reply is not httptop's JSON (%v)", err)
	}
	if in.Agent != snapshot.AgentName {
		return in, newError(ErrNotAgent, nil, "the info reply names agent %q, not %q", oneLine(in.Agent, 40), snapshot.AgentName)
	}
	if in.Protocol != snapshot.ProtocolVersion {
		return in, versionError("protocol", in.Protocol, snapshot.ProtocolVersion, in.Version)
	}
	if in.SnapshotVersion != snapshot.Version {
		return in, versionError("snapshot format", in.SnapshotVersion, snapshot.Version, in.Version)
	}
	if in.PID <= 0 {
		return in, newError(ErrNotAgent, nil, "the info reply has no pid")
	}
	return in, nil
}

// versionError says that the agent speaks version got of what, and this
// client want.
func versionError(what string, got, want int, agentVersion string) error {
	v := ""
	if agentVersion != "" {
		v = " (agent built from httptop " + oneLine(agentVersion, 40) + ")"
	}
	return newError(ErrVersion, nil, "the agent speaks httptop %s version %d%s and this httptop speaks %d: use an httptop command from the same release as the program", what, got, v, want)
}

// decodeSnapshot decodes and checks one snapshot: exactly one JSON object
// of snapshot.Version, from a process.
func decodeSnapshot(data []byte) (*snapshot.Snapshot, error) {
	if len(data) > maxSnapshotBytes {
		return nil, fmt.Errorf("%w: snapshot of more than %d bytes", errTooLarge, maxSnapshotBytes)
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil, errors.New("snapshot is null")
	}
	var s snapshot.Snapshot
	if err := decodeOne(data, &s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if s.Version != snapshot.Version {
		return nil, versionError("snapshot format", s.Version, snapshot.Version, "")
	}
	if s.PID <= 0 {
		return nil, fmt.Errorf("snapshot has no pid")
	}
	return &s, nil
}

// decodeAgentError reads the AgentError of a reply that is not a success;
// a body that is not one gives an empty code and a message quoting it.
func decodeAgentError(data []byte) *snapshot.AgentError {
	var e snapshot.AgentError
	if err := decodeOne(data, &e); err != nil || e.Code == "" {
		return &snapshot.AgentError{Message: oneLine(string(bytes.TrimSpace(data)), 200)}
	}
	e.Code = snapshot.ErrorCode(oneLine(string(e.Code), 40))
	e.Message = oneLine(e.Message, 500)
	return &e
}

// replyError turns a reply into the error it carries: ErrNotAgent when it
// lacks the protocol header, ErrVersion when the header names another
// version, else nil for 200 and otherwise an error wrapping the reply's
// *snapshot.AgentError (test its code with snapshot.HasCode). body is
// read only for a reply that is not a success. where names the agent in
// messages.
func replyError(where string, status int, header http.Header, body io.Reader) error {
	v := header.Get(snapshot.ProtocolHeader)
	if v == "" {
		return newError(ErrNotAgent, nil, "%s answers HTTP %d but is not an httptop agent (no %s header): check the address with 'httptop ps'", where, status, snapshot.ProtocolHeader)
	}
	if n, err := strconv.Atoi(v); err != nil || n != snapshot.ProtocolVersion {
		if err != nil {
			return newError(ErrNotAgent, nil, "%s answers with a malformed %s header %q: check the address with 'httptop ps'", where, snapshot.ProtocolHeader, oneLine(v, 20))
		}
		return versionError("protocol", n, snapshot.ProtocolVersion, "")
	}
	if status == http.StatusOK {
		return nil
	}
	data, _ := readLimited(body, maxErrorBytes)
	e := decodeAgentError(data)
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch e.Code {
	case snapshot.ErrCodeUnauthorized:
		return newError(ErrUnauthorized, e, "%s refused the token: %s", where, msg)
	case snapshot.ErrCodeBusy, snapshot.ErrCodeProfilerInUse:
		return newError(nil, e, "%s: %s", where, msg)
	}
	if status == http.StatusUnauthorized {
		return newError(ErrUnauthorized, e, "%s refused the token: %s", where, msg)
	}
	return newError(nil, e, "%s answered HTTP %d: %s", where, status, msg)
}
