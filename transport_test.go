package cryptofuse

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewTransport: the settings NewTransport documents, a new transport
// (with its own pool) on each call, and the default client built on one.
func TestNewTransport(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		tr   func(t *testing.T) *http.Transport
	}{
		{"NewTransport", func(*testing.T) *http.Transport { return NewTransport() }},
		{"the default client's", func(t *testing.T) *http.Transport {
			tr, ok := defaultHTTPClient().Transport.(*http.Transport)
			require.True(t, ok, "default transport is %T", defaultHTTPClient().Transport)
			return tr
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := tc.tr(t)
			settings := []struct {
				name      string
				got, want any
			}{
				{"TLSHandshakeTimeout", tr.TLSHandshakeTimeout, 10 * time.Second},
				{"ResponseHeaderTimeout", tr.ResponseHeaderTimeout, 30 * time.Second},
				{"ExpectContinueTimeout", tr.ExpectContinueTimeout, time.Second},
				{"IdleConnTimeout", tr.IdleConnTimeout, 90 * time.Second},
				{"MaxIdleConns", tr.MaxIdleConns, 100},
				{"MaxIdleConnsPerHost", tr.MaxIdleConnsPerHost, 64},
				{"MaxConnsPerHost", tr.MaxConnsPerHost, 64},
				{"ForceAttemptHTTP2", tr.ForceAttemptHTTP2, true},
				{"proxy from the environment", reflect.ValueOf(tr.Proxy).Pointer(), reflect.ValueOf(http.ProxyFromEnvironment).Pointer()},
				{"a dialer of its own", tr.DialContext != nil, true},
			}
			for _, s := range settings {
				assert.Equal(t, s.want, s.got, s.name)
			}
			// Every idle connection may stay: a busy service's callers keep
			// their connections in the pool.
			assert.Equal(t, tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, "connections per host: capped, and all of them may idle")
		})
	}

	a, b := NewTransport(), NewTransport()
	assert.NotSame(t, a, b, "each call returns a transport of its own")
	a.MaxConnsPerHost = 1
	assert.Equal(t, maxConnsPerHost, b.MaxConnsPerHost, "changing one transport changes another")
	assert.Equal(t, maxConnsPerHost, NewTransport().MaxConnsPerHost, "changing one transport changes the next")
	def, ok := defaultHTTPClient().Transport.(*http.Transport)
	require.True(t, ok)
	assert.NotSame(t, a, def, "NewTransport returns the default client's transport")
	assert.Same(t, defaultHTTPClient(), defaultHTTPClient(), "one default client")
}
