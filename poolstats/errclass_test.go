package poolstats

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: err}}
	}
	cases := []struct {
		err  error
		want ErrorClass
	}{
		{context.Canceled, ErrCanceled},
		{&url.Error{Op: "Get", URL: "http://x", Err: context.Canceled}, ErrCanceled},
		{context.DeadlineExceeded, ErrTimeout},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), ErrTimeout},
		{&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, ErrDNS},
		{&net.DNSError{Err: "timeout", Name: "x", IsTimeout: true}, ErrDNS},
		{opErr(syscall.ECONNREFUSED), ErrRefused},
		{opErr(syscall.ECONNRESET), ErrReset},
		{io.ErrUnexpectedEOF, ErrReset},
		{fmt.Errorf("transport: %w", io.EOF), ErrReset},
		{x509.UnknownAuthorityError{}, ErrTLS},
		{&url.Error{Op: "Get", URL: "https://x", Err: x509.HostnameError{Host: "x"}}, ErrTLS},
		{errors.New("something else"), ErrOther},
		{nil, ErrOther},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if ErrorClass(200).String() != "other" {
		t.Errorf("out-of-range class has no name")
	}
}
