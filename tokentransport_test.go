package cryptofuse

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apiClient returns an http.Client whose requests go through ts.Transport
// to srv.
func apiClient(srv *tokenServer, ts *TokenSource) *http.Client {
	return &http.Client{Transport: ts.Transport(srv)}
}

func TestTransport_SetsTheTokenOnAClone(t *testing.T) {
	t.Parallel()
	srv := newTokenServer(3600)
	ts := srv.source(t, TokenPolicy{})
	req, err := http.NewRequest(http.MethodGet, mockBase+"/api/me/", nil)
	require.NoError(t, err)
	req.Header.Set("X-Mine", "1")
	resp, err := ts.Transport(srv).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the API accepted the token")
	assert.Empty(t, req.Header.Get("Authorization"), "the caller's request was modified")
	assert.Equal(t, "1", req.Header.Get("X-Mine"))
}

// The token goes only to the client's origin: scheme, host and port.
func TestTransport_OnlyTheClientsOrigin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url  string
		sent bool
	}{
		{mockBase + "/api/", true},
		{"https://API.Cryptofuse.IO/api/", true},
		{"https://api.cryptofuse.io:443/api/", true},
		{"http://api.cryptofuse.io/api/", false},
		{"https://api.cryptofuse.io:8443/api/", false},
		{"https://evil.example/api/", false},
		{"https://api.cryptofuse.io.evil.example/api/", false},
		{"https://evil.example/?u=https://api.cryptofuse.io", false},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			srv := newTokenServer(3600)
			ts := srv.source(t, TokenPolicy{})
			body := &closeRecorder{Reader: strings.NewReader("x")}
			req, err := http.NewRequest(http.MethodPost, tc.url, body)
			require.NoError(t, err)
			resp, err := ts.Transport(srv).RoundTrip(req)
			srv.mu.Lock()
			sent := srv.resource
			srv.mu.Unlock()
			if tc.sent {
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, 1, sent)
				return
			}
			assert.ErrorIs(t, err, ErrForeignOrigin)
			if err != nil {
				assert.Equal(t, 1, strings.Count(err.Error(), "cryptofuse: "), "the prefix, once: %q", err)
				assert.Contains(t, err.Error(), "POST "+req.URL.Scheme+"://"+req.URL.Host+": request is not for the client's origin")
			}
			assert.Nil(t, resp)
			assert.Equal(t, 0, sent, "requests that reached the base transport")
			assert.True(t, body.closed, "the request body was not closed")
			n, _, _ := srv.counts()
			assert.Equal(t, 0, n, "token requests for a foreign request")
		})
	}
}

// A redirect to another origin is refused before it is sent.
func TestTransport_RedirectToAnotherOrigin(t *testing.T) {
	t.Parallel()
	srv := newTokenServer(3600)
	ts := srv.source(t, TokenPolicy{})
	resp, err := apiClient(srv, ts).Get(mockBase + "/redirect?to=" + url.QueryEscape("https://evil.example/steal"))
	if err == nil {
		resp.Body.Close()
	}
	assert.ErrorIs(t, err, ErrForeignOrigin)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Equal(t, 1, srv.resource, "only the first hop was sent")
}

// A 401 invalidates the token and replays a replayable request once.
func TestTransport_ReplayAfter401(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		body        func() (io.Reader, bool) // the body, and whether GetBody is set
		rejectAll   bool
		wantStatus  int
		wantAPIReqs int
		wantTokens  int
	}{
		{"no body", func() (io.Reader, bool) { return nil, false }, false, 200, 2, 2},
		{"body with GetBody", func() (io.Reader, bool) { return strings.NewReader("payload"), true }, false, 200, 2, 2},
		{"body without GetBody", func() (io.Reader, bool) { return &closeRecorder{Reader: strings.NewReader("payload")}, false }, false, 401, 1, 1},
		{"still 401: replayed once", func() (io.Reader, bool) { return nil, false }, true, 401, 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTokenServer(3600)
			ts := srv.source(t, TokenPolicy{})
			first := mustToken(t, ts)
			srv.set(func(s *tokenServer) {
				s.rejected = map[string]bool{first: true} // revoked behind our back
				s.rejectAll = tc.rejectAll
			})
			r, getBody := tc.body()
			req, err := http.NewRequest(http.MethodPost, mockBase+"/api/write/", r)
			require.NoError(t, err)
			if !getBody {
				req.GetBody = nil
			}
			resp, err := ts.Transport(srv).RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			n, _, _ := srv.counts()
			srv.mu.Lock()
			apiReqs, bodies := srv.resource, srv.bodies
			srv.mu.Unlock()
			assert.Equal(t, tc.wantAPIReqs, apiReqs, "API requests")
			assert.Equal(t, tc.wantTokens, n, "token requests")
			if r != nil {
				for i, b := range bodies {
					assert.Equal(t, "payload", b, "body of API request %d", i)
				}
			}
		})
	}
}

func TestTransport_AfterClose(t *testing.T) {
	t.Parallel()
	srv := newTokenServer(3600)
	ts := srv.source(t, TokenPolicy{})
	mustToken(t, ts)
	require.NoError(t, ts.Close(context.Background()))
	req, err := http.NewRequest(http.MethodGet, mockBase+"/api/", nil)
	require.NoError(t, err)
	_, err = ts.Transport(srv).RoundTrip(req)
	assert.ErrorIs(t, err, ErrClosed, "RoundTrip after Close")
}

// closeRecorder is a request body that records whether it was closed, and
// that http.NewRequest cannot give a GetBody.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }
