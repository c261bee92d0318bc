package cryptofuse

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Benchmarks of one Revoke against a loopback server, beside the floor: the
// same request written by hand with net/http over the same transport
// settings. Run them with:
//
//	go test -run '^$' -bench . -benchmem -count 10 . | tee bench.txt
//
// The server runs in this process, so allocs/op include the server's; the
// differences between rows are the client's.

// benchServer answers every request like DOT's revoke endpoint: 200, empty.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = []string{"text/html; charset=utf-8"}
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// floorRevoke is the floor: the least a hand-written revoke must do.
func floorRevoke(ctx context.Context, hc *http.Client, endpoint, auth, form string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &Error{StatusCode: resp.StatusCode}
	}
	return nil
}

func BenchmarkRevoke(b *testing.B) {
	srv := benchServer(b)
	const token = "Gx3mPq9ZkR2vT7wYb1nC5dF8hJ0lAs"
	withDeadline := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Minute)
	}
	noDeadline := func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }
	sdk := func(hc *http.Client) *Client {
		c, err := NewClient(testID, testSecret, WithBaseURL(srv.URL), WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}

	cases := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		call func(*testing.B) func(context.Context) error
	}{
		{"floor/ctx-deadline", withDeadline, func(b *testing.B) func(context.Context) error {
			hc := &http.Client{Transport: newTransport()}
			c := sdk(hc)
			return func(ctx context.Context) error {
				return floorRevoke(ctx, hc, c.revokeURL, c.authorization[0], revokeForm(token, AccessTokenHint))
			}
		}},
		{"sdk/ctx-deadline", withDeadline, func(b *testing.B) func(context.Context) error {
			c := sdk(&http.Client{Transport: newTransport()})
			return func(ctx context.Context) error { return c.Revoke(ctx, token, AccessTokenHint) }
		}},
		// The two ways of bounding a call whose ctx has no deadline.
		{"sdk/no-deadline/DefaultTimeout", noDeadline, func(b *testing.B) func(context.Context) error {
			c := sdk(&http.Client{Transport: newTransport()})
			return func(ctx context.Context) error { return c.Revoke(ctx, token, AccessTokenHint) }
		}},
		{"sdk/no-deadline/http.Client.Timeout", noDeadline, func(b *testing.B) func(context.Context) error {
			c := sdk(&http.Client{Transport: newTransport(), Timeout: DefaultTimeout})
			return func(ctx context.Context) error { return c.Revoke(ctx, token, AccessTokenHint) }
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			call := tc.call(b)
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := tc.ctx()
				err := call(ctx)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
