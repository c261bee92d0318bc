package cryptofusetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
)

// The endpoints' paths, as django-oauth-toolkit's urls.py mounts them under
// /o/. A [Fault] may name one of them in its Path.
const (
	TokenPath      = "/o/token/"        // the token endpoint (RFC 6749 §3.2)
	RevokePath     = "/o/revoke_token/" // the revocation endpoint (RFC 7009 §2)
	IntrospectPath = "/o/introspect/"   // the introspection endpoint (RFC 7662 §2)
	// MetadataPath is where django-oauth-toolkit 3.4.1, mounted under /o/,
	// serves its authorization server metadata (RFC 8414 §3). 1.7.0 answers
	// 404 there, as the Server does under [WithDOT170].
	MetadataPath = "/o/.well-known/oauth-authorization-server"
)

// Short names for the paths, used throughout the package.
const (
	tokenPath      = TokenPath
	revokePath     = RevokePath
	introspectPath = IntrospectPath
)

// Server is an in-memory fake of POST /o/token/, POST /o/revoke_token/ and
// POST /o/introspect/, listening on loopback (an [httptest.Server]
// underneath), or, under [WithoutListener], reached in memory only, through
// [Server.Transport]. It answers as django-oauth-toolkit 3.4.1 does for confidential
// client-credentials applications, or as 1.7.0 does under [WithDOT170].
//
// A test can make it misbehave on purpose with [Server.InjectFault]:
// answer a canned status with Retry-After, drop the connection, delay the
// answer, or send a huge or non-JSON body.
//
// A Server is safe for concurrent use by multiple goroutines: its HTTP
// handlers and its methods (InjectFault and ClearFaults included) may run at
// the same time.
type Server struct {
	// URL is the base URL of the server, such as "http://127.0.0.1:41234",
	// with no trailing slash. Pass it to the SDK's WithBaseURL. Under
	// [WithoutListener] it is "http://127.0.0.1:9", never dialled.
	URL string

	ts     *httptest.Server // nil under WithoutListener
	h      http.Handler     // the whole handler, shared by ts and Transport
	cfg    config           // read-only after NewServer
	st     *store
	faults *faultQueue
}

// Counts is a snapshot of what a [Server] has received, returned by
// [Server.Counts]. It is a plain value: later requests do not change it.
type Counts struct {
	// Token, Revoke and Introspect count the requests received on
	// /o/token/, /o/revoke_token/ and /o/introspect/, whatever their method
	// and answer. Other counts requests for any other path.
	Token, Revoke, Introspect, Other int
	// Resource counts the requests received on [ResourcePath], whatever
	// their method and answer; they are not counted in Other.
	Resource int
	// Connections counts the TCP connections the server accepted: several
	// requests on one kept-alive connection count once. Requests through
	// [Server.Transport] open none.
	Connections int
	// Faulted counts the requests that took a fault queued with
	// [Server.InjectFault]; they are counted in Token, Revoke, Introspect
	// or Other as well.
	Faulted int
}

// NewServer starts a Server and registers one confidential client-credentials
// application with the given id and secret. The caller should call Close when
// finished, to shut it down. The returned Server is ready for concurrent use.
//
// With [WithoutListener] it opens no socket and starts no goroutine; the
// Server is reached through [Server.Transport] only.
//
// NewServer panics if it cannot listen on a loopback address, as
// [httptest.NewServer] does, if clientID is empty, and if a default scope is
// not one of the server's scopes (the real server refuses that setting too,
// with ImproperlyConfigured).
func NewServer(clientID, clientSecret string, opts ...Option) *Server {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if !cfg.knownScopes(cfg.defaultScopes) {
		panic(fmt.Sprintf("cryptofusetest: default scopes %q are not all among the scopes %q", cfg.defaultScopes, cfg.scopes))
	}
	s := &Server{cfg: cfg, st: newStore(), faults: newFaultQueue()}
	s.st.addClient(clientID, clientSecret)
	s.h = s.handler()
	if cfg.noListener {
		s.URL = unlistenedURL
		return s
	}
	s.ts = httptest.NewUnstartedServer(s.h)
	s.ts.Config.ConnState = s.countConnection
	s.ts.Config.ConnContext = withConn
	s.ts.Start()
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down and blocks until all outstanding requests on
// it have completed. A request held by a fault does not hold Close up: a
// Delay is cut short and the connection dropped, and a body being streamed
// for BodySize is cut off. It is safe to call more than once, but not from
// a request's handling.
func (s *Server) Close() {
	s.faults.close()
	if s.ts != nil {
		s.ts.Close()
	}
}

// AddClient registers another confidential client-credentials application.
// Registering an id again replaces its secret; the tokens issued to it stay.
// It panics if clientID is empty. It is safe to call while requests are
// being served.
func (s *Server) AddClient(clientID, clientSecret string) {
	s.st.addClient(clientID, clientSecret)
}

// IssueToken mints an active access token for a registered client directly,
// without HTTP, as a successful client-credentials request would (Counts does
// not change). scope is stored as given, without checking it against the
// server's scopes; "" grants the default scopes. The token expires after the
// server's lifetime, on the server's clock. IssueToken panics if clientID is
// not registered. It is safe for concurrent use.
func (s *Server) IssueToken(clientID, scope string) string {
	if _, ok := s.st.clientSecret(clientID); !ok {
		panic(fmt.Sprintf("cryptofusetest: IssueToken: unknown client id %q", clientID))
	}
	if scope == "" {
		scope = s.cfg.defaultScope()
	}
	return s.issue(clientID, scope)
}

// IssueUserToken mints an access token and its refresh token for a user of
// a registered client directly, without HTTP, as a password or
// authorization-code grant would (RFC 6749 §4.1, §4.3): the tokens a logout
// handler revokes. scope is stored as given; "" grants the default scopes.
// username is what introspection answers for the token. The refresh token
// works in a refresh_token grant (RFC 6749 §6) by the same client, which
// revokes both and issues a new pair.
//
// Revocation treats the pair as the server's version does (RFC 7009 §2.1):
// revoking the refresh token revokes the access token too (both versions);
// revoking the access token revokes the refresh token too on 3.4.1, the
// default, and leaves it usable under [WithDOT170]. IssueUserToken panics if
// clientID is not registered. It is safe for concurrent use.
//
//	access, refresh := srv.IssueUserToken("my-id", "alice", "")
//	// ... the logout handler revokes refresh, then access ...
//	if srv.Active(access) || srv.ActiveRefresh(refresh) {
//		t.Error("a token survived logout")
//	}
func (s *Server) IssueUserToken(clientID, username, scope string) (accessToken, refreshToken string) {
	if _, ok := s.st.clientSecret(clientID); !ok {
		panic(fmt.Sprintf("cryptofusetest: IssueUserToken: unknown client id %q", clientID))
	}
	if scope == "" {
		scope = s.cfg.defaultScope()
	}
	return s.st.addUser(clientID, username, scope, s.cfg.now().Add(s.cfg.expiresIn))
}

// ActiveRefresh reports whether refreshToken was issued by the server (by
// [Server.IssueUserToken] or a refresh_token grant) and has been neither
// revoked nor used. Refresh tokens do not expire, as on the real server by
// default. It is safe for concurrent use.
func (s *Server) ActiveRefresh(refreshToken string) bool {
	_, ok := s.st.lookupRefresh(refreshToken)
	return ok
}

// Active reports whether token was issued by the server, has not been
// revoked, and has not expired on the server's clock. It is safe for
// concurrent use.
func (s *Server) Active(token string) bool {
	t, ok := s.st.lookup(token)
	return ok && s.valid(t)
}

// issue stores a new access token for a client, expiring after the
// server's lifetime, and returns its value.
func (s *Server) issue(clientID, scope string) string {
	return s.st.add(clientID, scope, s.cfg.now().Add(s.cfg.expiresIn))
}

// valid reports whether t has not expired, as DOT's AccessToken.is_expired
// decides: a token is expired from its expiry instant on.
func (s *Server) valid(t accessToken) bool {
	return s.cfg.now().Before(t.expires)
}

// Counts returns a snapshot of the requests and connections the server has
// received so far. It is safe for concurrent use.
func (s *Server) Counts() Counts {
	return s.st.snapshot()
}

// handler is the server's whole HTTP handler. Requests are counted first,
// then given the faults injected (canned statuses with Retry-After, dropped
// connections, delays, huge bodies), then answered by the endpoints, so that
// faulted requests are still counted.
func (s *Server) handler() http.Handler {
	return s.countRequests(s.injectFaults(s.endpoints()))
}

// dot170Key marks, in a request's context, a server that answers as
// django-oauth-toolkit 1.7.0 does, for the parsing helpers that see only the
// request.
type dot170Key struct{}

// isDOT170 reports whether r reached a server under WithDOT170.
func isDOT170(r *http.Request) bool {
	return r.Context().Value(dot170Key{}) != nil
}

// countRequests counts each request by its path, then passes it on.
func (s *Server) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.st.countRequest(r.URL.Path)
		if s.cfg.dot170 {
			r = r.WithContext(context.WithValue(r.Context(), dot170Key{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

// countConnection is the http.Server's ConnState hook.
func (s *Server) countConnection(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.st.countConnection()
	}
}

// endpoints routes a request by its path, as Django's URL resolver does on
// the percent-decoded path.
func (s *Server) endpoints() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case tokenPath:
			s.serveToken(w, r)
		case revokePath:
			s.serveRevoke(w, r)
		case introspectPath:
			s.serveIntrospect(w, r)
		case ResourcePath:
			s.serveResource(w, r)
		case MetadataPath:
			if s.cfg.dot170 {
				s.writePage(w, http.StatusNotFound)
				return
			}
			s.serveMetadata(w, r)
		case tokenPath[:len(tokenPath)-1], revokePath[:len(revokePath)-1], introspectPath[:len(introspectPath)-1]:
			// Django's CommonMiddleware (APPEND_SLASH) in a stock project
			// redirects every method to the path with a slash.
			location := r.URL.Path + "/"
			if r.URL.RawQuery != "" {
				location += "?" + r.URL.RawQuery
			}
			w.Header().Set("Location", location)
			writeEmpty(w, http.StatusMovedPermanently)
		default:
			s.writePage(w, http.StatusNotFound)
		}
	})
}
