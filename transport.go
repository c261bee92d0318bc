package cryptofuse

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cryptofuse/cryptofuse-go/internal/wire"
)

// Transport settings of the default HTTP client. They bound every phase of a
// request that happens before the response headers arrive; the body is bounded
// by DefaultTimeout (or the caller's deadline) and by the read caps in send.go.
// This is the one place they are written: cmd/cryptofuse and the benchmarks
// take them through NewTransport.
const (
	dialTimeout           = 10 * time.Second
	keepAlive             = 30 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	expectContinueTimeout = time.Second
	idleConnTimeout       = 90 * time.Second
	// maxIdleConnsPerHost keeps a busy service's connections in the pool.
	// Go's default of 2 makes 64 concurrent callers open a new connection for
	// nearly every request.
	maxIdleConnsPerHost = 64
	maxIdleConns        = 100
	// maxConnsPerHost caps the connections to the token server. Without a
	// cap, a burst of callers on a cold pool dials one connection per
	// request that finds no idle one, and overshoots: 64 callers opened up
	// to 98 (TestConnectionsUnderConcurrentCallers). A 65th simultaneous
	// call waits for a free connection, within its context's deadline.
	maxConnsPerHost = 64
)

// NewTransport returns a new *http.Transport with the settings of the
// Client's default transport: proxies from the environment, a 10 s dial and
// TLS handshake timeout, a 30 s wait for response headers, HTTP/2 when the
// server offers it, and a pool of up to 64 connections per host, all kept
// when idle (90 s), 100 idle connections in all.
//
// It is for a caller who builds its own *http.Client for [WithHTTPClient]
// (to wrap the transport for tracing, say, or to size the pool for more
// workers) and wants the SDK's bounds. Each call returns a transport of its
// own, with its own pool; the caller may change its fields before first use.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   dialTimeout,
			KeepAlive: keepAlive,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: expectContinueTimeout,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		MaxConnsPerHost:       maxConnsPerHost,
	}
}

// defaultHTTPClient is shared by every Client built without WithHTTPClient, so
// that all of them share one connection pool: a program that builds a Client
// per request does not leak a pool per Client. It has no Timeout, because
// http.Client.Timeout costs a timer, a context and a goroutine on every call
// (the benchmarks measure it); the transport bounds each phase before the
// response and DefaultTimeout bounds the call when ctx has no deadline.
var defaultHTTPClient = sync.OnceValue(func() *http.Client {
	return &http.Client{Transport: NewTransport(), CheckRedirect: refuseRedirect}
})

// refuseRedirect makes http.Client.Do return a 3xx response as it is, instead
// of following it with our credentials.
var refuseRedirect = wire.RefuseRedirect
