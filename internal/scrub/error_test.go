package scrub

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
)

// TestWrap: the text is scrubbed, what the error is does not change, and no
// error handed out by Unwrap or errors.As shows the secret.
func TestWrap(t *testing.T) {
	t.Parallel()
	const tok = "tok-SECRET-1234"
	sc := New(tok).String
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	echo := fmt.Errorf("malformed HTTP status code %q", tok)

	t.Run("clean text: err itself", func(t *testing.T) {
		t.Parallel()
		err := &url.Error{Op: "Post", URL: "https://h/o/token/", Err: dial}
		if got := Wrap(err, sc); got != error(err) {
			t.Errorf("got %#v, want err itself", got)
		}
		if got := Wrap(nil, sc); got != nil {
			t.Errorf("Wrap(nil): got %v, want nil", got)
		}
	})

	// The secret is in the outer error's text (and in echo's), not in
	// the x509 error's, the dial error's or the context's.
	cause := &url.Error{Op: "Post", URL: "https://h/o/token/", Err: errors.Join(
		echo, x509.UnknownAuthorityError{}, dial, context.DeadlineExceeded)}
	w := Wrap(cause, sc)

	t.Run("text", func(t *testing.T) {
		t.Parallel()
		for _, verb := range []string{"%v", "%+v", "%s", "%q", "%#v"} {
			if got := fmt.Sprintf(verb, w); strings.Contains(got, tok) {
				t.Errorf("%s: got %s, want no secret", verb, got)
			}
		}
		if !strings.Contains(w.Error(), Redacted) {
			t.Errorf("got %q, want the secret shown as %s", w.Error(), Redacted)
		}
		if got := errors.Unwrap(w); got != nil {
			t.Errorf("errors.Unwrap: got %v, want nil (the cause's text shows the secret)", got)
		}
	})
	t.Run("errors.Is sees the whole cause", func(t *testing.T) {
		t.Parallel()
		for _, target := range []error{context.DeadlineExceeded, syscall.ECONNREFUSED, echo} {
			if !errors.Is(w, target) {
				t.Errorf("errors.Is(w, %v): got false, want true", target)
			}
		}
		if errors.Is(w, context.Canceled) {
			t.Errorf("errors.Is(w, context.Canceled): got true, want false")
		}
	})
	t.Run("errors.As finds every clean error", func(t *testing.T) {
		t.Parallel()
		var ua x509.UnknownAuthorityError
		if !errors.As(w, &ua) {
			t.Errorf("errors.As(w, *x509.UnknownAuthorityError): got false, want true")
		}
		var oe *net.OpError
		if !errors.As(w, &oe) || oe != dial {
			t.Errorf("errors.As(w, *net.OpError): got %v, want %v", oe, dial)
		}
		var ne net.Error // *url.Error is one, but shows the secret; the dial error is next
		if !errors.As(w, &ne) || ne != net.Error(dial) {
			t.Errorf("errors.As(w, net.Error): got %v, want %v", ne, dial)
		}
	})
	t.Run("errors.As never hands out the secret", func(t *testing.T) {
		t.Parallel()
		var ue *url.Error
		if errors.As(w, &ue) {
			t.Errorf("errors.As(w, *url.Error): got %v, want false", ue)
		}
	})
	t.Run("an As method that finds a secret", func(t *testing.T) {
		t.Parallel()
		w := Wrap(asErr{tok}, sc)
		var ue *url.Error
		if errors.As(w, &ue) {
			t.Errorf("errors.As: got %v, want false", ue)
		}
		if ue != nil {
			t.Errorf("errors.As left target set to %v, want it unchanged", ue)
		}
	})
}

// asErr converts itself, by its As method, to a *url.Error that shows
// text.
type asErr struct{ text string }

func (e asErr) Error() string { return "as " + e.text }
func (e asErr) As(target any) bool {
	if p, ok := target.(**url.Error); ok {
		*p = &url.Error{Op: "Post", URL: "u", Err: errors.New(e.text)}
		return true
	}
	return false
}
