package poolstats

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// ErrorClass is the kind of a failed request, coarse enough to aggregate.
type ErrorClass uint8

// Error classes.
const (
	ErrOther ErrorClass = iota
	ErrTimeout
	ErrCanceled
	ErrDNS
	ErrRefused
	ErrReset
	ErrTLS
	numErrorClasses
)

var errorClassNames = [numErrorClasses]string{
	ErrOther:    "other",
	ErrTimeout:  "timeout",
	ErrCanceled: "canceled",
	ErrDNS:      "dns",
	ErrRefused:  "refused",
	ErrReset:    "reset",
	ErrTLS:      "tls",
}

// String returns the class's name as it appears in snapshots.
func (c ErrorClass) String() string {
	if c >= numErrorClasses {
		return "other"
	}
	return errorClassNames[c]
}

// Classify returns the class of an error returned by a RoundTripper or a
// response body's Read. The checks go from the most specific cause to the
// most general: a DNS lookup that timed out is a DNS error, a TLS
// handshake that timed out is a timeout.
func Classify(err error) ErrorClass {
	var (
		dnsErr   *net.DNSError
		netErr   net.Error
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
		verErr   *tls.CertificateVerificationError
		uaErr    x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invErr   x509.CertificateInvalidError
	)
	switch {
	case err == nil:
		return ErrOther
	case errors.Is(err, context.Canceled):
		return ErrCanceled
	case errors.As(err, &dnsErr):
		return ErrDNS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return ErrTimeout
	case errors.As(err, &recErr), errors.As(err, &alertErr), errors.As(err, &verErr),
		errors.As(err, &uaErr), errors.As(err, &hostErr), errors.As(err, &invErr):
		return ErrTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrReset
	}
	return ErrOther
}
