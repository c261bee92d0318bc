// Package cryptofusetest is an in-memory fake of Cryptofuse's OAuth2 server
// (client credentials, RFC 6749 §4.4; revocation, RFC 7009; introspection,
// RFC 7662) for tests, as net/http/httptest serves net/http users.
//
// A [Server] listens on a loopback address and answers
//
//   - POST /o/token/ for the client-credentials grant (RFC 6749 §4.4),
//   - POST /o/revoke_token/ for token revocation (RFC 7009), and
//   - POST /o/introspect/ for token introspection (RFC 7662),
//
// the way the real server, django-oauth-toolkit 3.4.1 on oauthlib 3.3.1,
// answers them, or 1.7.0 on oauthlib 3.2.2 under [WithDOT170]: the same
// status codes, headers and JSON bodies, byte for byte where a client can
// observe them, including the order of its checks and its quirks (HTTP
// Basic credentials decoded with unquote_plus, a fallback to client_id and
// client_secret in the body; on 3.4.1 an ownership check that answers 200
// for another client's token and leaves it valid, on 1.7.0 a 500 for any
// query string on the token endpoint). 3.4.1 also serves RFC 8414 metadata
// at [MetadataPath].
//
// For code that calls the Cryptofuse API with the token it got, the Server
// also serves a protected resource at [ResourcePath] (RFC 6750): a request
// with "Authorization: Bearer <token>" naming an active access token gets
// 200 and the JSON {"client_id": "…", "scope": "…"} of the token; any other
// request (no header, another scheme, an unknown, revoked or expired token)
// gets 401 with `WWW-Authenticate: Bearer error="invalid_token"`. A test can
// point an authenticating http.Client at Server.URL + ResourcePath, and
// count its calls in [Counts].Resource. Under [WithDOTResource] it answers
// as django-oauth-toolkit's own views do instead: 403 with an empty body for
// every refusal, so that code which must tell a dead token from a
// permission denial ([WithResourceScopes] makes one) can be tested.
//
// # Testable time
//
// A Server built [WithoutListener] opens no socket and starts no goroutine;
// [Server.Transport] (or [Server.Client]) calls its handler directly. Built
// inside a testing/synctest bubble, it stamps and checks token expiry and
// waits out a Fault's Delay on the bubble's fake clock, so a test of
// rotation, backoff or a grace period runs a simulated day in milliseconds:
//
//	func TestRotation(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			srv := cryptofusetest.NewServer("id", "secret", cryptofusetest.WithoutListener())
//			defer srv.Close()
//			c, _ := cryptofuse.NewClient("id", "secret",
//				cryptofuse.WithBaseURL(srv.URL),
//				cryptofuse.WithHTTPClient(srv.Client()))
//			ts, _ := c.TokenSource(cryptofuse.TokenPolicy{MaxAge: 10 * time.Minute, RevokeAfter: time.Minute})
//			defer ts.Close(context.Background())
//			for range 24 * 60 {
//				_, _ = ts.Token(context.Background())
//				time.Sleep(time.Minute) // fake time: returns at once
//				synctest.Wait()         // let the timers of this instant run
//			}
//			// 144 to 192 tokens issued (MaxAge is jittered), each but the last revoked
//		})
//	}
//
// The package speaks only the wire protocol: it imports nothing from the SDK,
// so a test can point any client at [Server.URL].
//
//	srv := cryptofusetest.NewServer("my-id", "my-secret")
//	defer srv.Close()
//	tok := srv.IssueToken("my-id", "")
//	// ... revoke tok through the SDK, configured with srv.URL ...
//	if srv.Active(tok) {
//		t.Error("token still active after revoke")
//	}
//
// A test can also make the server misbehave, to check how a client copes
// with the failures of a real network: [Server.InjectFault] queues a [Fault]
// that answers the next requests with a canned status (a 503 with
// Retry-After, say), drops their connection before any answer, delays them,
// or sends a huge or non-JSON body. A faulted request never reaches the real
// endpoint, so a revocation answered 503 revoked nothing.
//
//	srv.InjectFault(2, cryptofusetest.Fault{
//		Path:       cryptofusetest.RevokePath,
//		Status:     http.StatusServiceUnavailable,
//		RetryAfter: "1",
//	})
//	// ... the next two revocations get a 503, the third the real answer ...
//
// The server keeps no users or authorization codes, so the password and
// authorization_code grants always fail the way they fail on the real server
// for a client-credentials application. A test that needs a user's tokens
// gets an access token with its refresh token from [Server.IssueUserToken];
// revocation then cascades as the server's version does (RFC 7009 §2.1),
// and the refresh_token grant exchanges the refresh token for a new pair.
//
// Everything in the package is safe for concurrent use by multiple
// goroutines.
package cryptofusetest
