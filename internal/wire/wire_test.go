package wire

import (
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
)

func TestBasicCredentials(t *testing.T) {
	t.Parallel()
	got, err := base64.StdEncoding.DecodeString(BasicCredentials("spécial:+%&/=id", "s3cr3t +%"))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 6749 §2.3.1: each part form-encoded, then joined with ':'.
	if want := "sp%C3%A9cial%3A%2B%25%26%2F%3Did:s3cr3t+%2B%25"; string(got) != want {
		t.Errorf("decoded: got %q, want %q", got, want)
	}
}

func TestRefuseRedirect(t *testing.T) {
	t.Parallel()
	if err := RefuseRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("got %v, want http.ErrUseLastResponse", err)
	}
}
