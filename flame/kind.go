package flame

import "errors"

// ErrUnsupportedKind is returned, wrapped, when a profile kind
// (snapshot.ProfileKind) is unknown or does not fit the call: Start and
// Capture need a continuous kind (CPU or wall-clock) and Snapshot a
// point-in-time one (heap or goroutine).
var ErrUnsupportedKind = errors.New("unsupported profile kind")
