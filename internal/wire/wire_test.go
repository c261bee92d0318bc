package wire

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
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

func TestActive(t *testing.T) {
	t.Parallel()
	fake := cryptofusetest.NewServer("id:+", "secret&%")
	t.Cleanup(fake.Close)
	live := fake.IssueToken("id:+", "read")
	hc := &http.Client{CheckRedirect: RefuseRedirect}

	tests := []struct {
		name, token string
		want        bool
	}{
		{"live token", live, true},
		{"unknown token", "no-such-token", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Active(context.Background(), hc, fake.URL+"/", "id:+", "secret&%", tt.token)
			if err != nil {
				t.Fatalf("Active: %v", err)
			}
			if got != tt.want {
				t.Errorf("Active: got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestActive_Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		want   error
	}{
		{"no endpoint", http.StatusNotFound, ErrNoIntrospection},
		{"wrong method", http.StatusMethodNotAllowed, ErrNoIntrospection},
		{"redirect", http.StatusFound, nil},
		{"200 without active", http.StatusOK, nil},
		{"server error", http.StatusInternalServerError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == http.StatusFound {
					http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", tt.status)
					return
				}
				w.WriteHeader(tt.status)
				if tt.status == http.StatusOK {
					_, _ = w.Write([]byte(`{"scope": "read"}`))
				}
			}))
			t.Cleanup(srv.Close)
			_, err := Active(context.Background(), &http.Client{CheckRedirect: RefuseRedirect}, srv.URL, "id", "secret", "tok")
			if err == nil {
				t.Fatal("Active: got nil error, want one")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Active: got %v, want %v", err, tt.want)
			}
			if tt.want == nil && errors.Is(err, ErrNoIntrospection) {
				t.Errorf("Active: got %v, want an error other than ErrNoIntrospection", err)
			}
		})
	}
}
