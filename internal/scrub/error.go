package scrub

import (
	"errors"
	"reflect"
)

// Wrap returns err with its text scrubbed by scrub, without changing what
// it is.
//
// When err's text holds nothing to scrub, Wrap returns err itself. Else it
// returns an error whose Error() is the scrubbed text and that has no Unwrap
// method, so that no walk down the chain (errors.Unwrap, a logger that
// prints each cause) reaches the secret, and for which:
//
//   - errors.Is(wrapped, target) is errors.Is(err, target): a sentinel
//     reveals nothing, so the whole of err's tree counts (a context's error,
//     a syscall.Errno, fs.ErrNotExist);
//   - errors.As(wrapped, &target) finds, in errors.As's order, the first
//     error of err's tree that fits target and whose own Error() holds
//     nothing to scrub: an x509 or TLS certificate error, a *net.OpError,
//     a *url.Error whose text does not quote the secret. An error whose own
//     text shows a secret is never handed out.
//
// The trade-off: an error of the tree whose own text holds a secret (a
// *url.Error quoting a malformed status line that echoed the token, say)
// is reachable by errors.Is but not by errors.As. A caller that must decide
// on such an error (as the SDK's retry policy does) keeps err itself.
func Wrap(err error, scrub func(string) string) error {
	if err == nil {
		return nil
	}
	raw := err.Error()
	text := scrub(raw)
	if text == raw {
		return err
	}
	return &wrapped{text: text, cause: err, scrub: scrub}
}

// wrapped is an error whose text was scrubbed (see Wrap).
type wrapped struct {
	text  string
	cause error
	scrub func(string) string
}

func (e *wrapped) Error() string { return e.text }

// Is reports whether the original cause is, or wraps, target.
func (e *wrapped) Is(target error) bool { return errors.Is(e.cause, target) }

// As sets target to the first error of the original cause's tree that fits
// it and whose text holds nothing to scrub.
func (e *wrapped) As(target any) bool {
	// errors.As has checked target: a non-nil pointer to an interface or
	// to a type that implements error.
	val := reflect.ValueOf(target).Elem()
	return e.as(e.cause, val, target)
}

// clean reports whether err's own text holds nothing to scrub.
func (e *wrapped) clean(err error) bool {
	s := err.Error()
	return e.scrub(s) == s
}

// as walks err's tree as errors.As does, and stops at the first error that
// fits val and is clean.
func (e *wrapped) as(err error, val reflect.Value, target any) bool {
	for err != nil {
		if reflect.TypeOf(err).AssignableTo(val.Type()) && e.clean(err) {
			val.Set(reflect.ValueOf(err))
			return true
		}
		if x, ok := err.(interface{ As(any) bool }); ok {
			saved := reflect.New(val.Type()).Elem()
			saved.Set(val)
			if x.As(target) {
				if found, isErr := val.Interface().(error); isErr && found != nil && e.clean(found) {
					return true
				}
				val.Set(saved) // what it found shows a secret
			}
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				if inner != nil && e.as(inner, val, target) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
