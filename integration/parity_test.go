package integration_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// A rawRequest is sent byte for byte, so the table can hold requests that the
// SDK would never send. In target, headers and body, {NAME} stands for an
// access token issued for that name on the server under test: to mainClient,
// or to otherClient when NAME starts with "O". {UAn} and {URn} stand for the
// access and refresh token of user token pair n, issued to userClient for
// the seeded user (on the fake, by IssueUserToken).
type rawRequest struct {
	name    string
	method  string
	target  string // path and query
	headers []string
	body    string
	want    int // the status DOT 3.4.1 answers: dot-behaviour.md, or the last closing note
	want170 int // the status DOT 1.7.0 answers, when it differs from want
}

// on170 returns r with the status DOT 1.7.0 answers.
func (r rawRequest) on170(status int) rawRequest {
	r.want170 = status
	return r
}

// wantFor returns the status r gets from DOT version (dotVersion's form).
func (r rawRequest) wantFor(version string) int {
	if r.want170 != 0 && strings.HasPrefix(version, "1.") {
		return r.want170
	}
	return r.want
}

// answer is what must agree between the two servers.
type answer struct {
	Status int
	Type   string // Content-Type
	Error  string // the RFC 6749 error code of a JSON body
	State  string // the state a JSON error echoes
	Scope  string // the scope a token answer grants
	Active string // introspection's "active", "true" or "false"
}

const formType = "Content-Type: application/x-www-form-urlencoded"

func basicAuth(id, secret string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// encodedAuth is RFC 6749 §2.3.1's form: each part form-encoded, then Basic.
func encodedAuth(c testClient) string {
	return basicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
}

func post(name, target, body string, want int, headers ...string) rawRequest {
	return rawRequest{name: name, method: "POST", target: target, headers: append([]string{formType}, headers...), body: body, want: want}
}

// parityTable follows dot-behaviour.md's tables, then the behaviours the core
// SDK's closing note found. Order matters: revocations change later answers.
func parityTable() []rawRequest {
	const cc = "grant_type=client_credentials"
	main := encodedAuth(mainClient)
	wrong := basicAuth(mainClient.id, "wrong")
	tok := func(name, body string, want int, headers ...string) rawRequest {
		return post("token/"+name, "/o/token/", body, want, headers...)
	}
	rev := func(name, body string, want int, headers ...string) rawRequest {
		return post("revoke/"+name, "/o/revoke_token/", body, want, headers...)
	}
	// active checks with introspection whether a token is still live.
	active := func(name, token string) rawRequest {
		return post("introspect/"+name, "/o/introspect/", "token="+token, 200, main)
	}
	user := encodedAuth(userClient)
	multipart := "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--XyZ--\r\n"
	return []rawRequest{
		// POST /o/token/
		tok("no scope", cc, 200, main),
		tok("read write", cc+"&scope=read+write", 200, main),
		tok("unknown scope", cc+"&scope=admin", 400, main),
		tok("known and unknown scope", cc+"&scope=read+admin", 400, main),
		tok("wrong secret", cc, 401, wrong),
		tok("unknown client", cc, 401, basicAuth("nobody", mainClient.secret)),
		tok("no auth", cc, 401),
		tok("lower-case basic", cc, 401, "Authorization: basic "+base64.StdEncoding.EncodeToString([]byte(mainClient.id+":"+mainClient.secret))),
		tok("special, query-escaped", cc, 200, encodedAuth(specialClient)),
		tok("special, raw", cc, 401, basicAuth(specialClient.id, specialClient.secret)),
		tok("special, id escaped, secret raw", cc, 401, basicAuth(url.QueryEscape(specialClient.id), specialClient.secret)),
		tok("special, path-escaped", cc, 401, basicAuth(url.PathEscape(specialClient.id), url.PathEscape(specialClient.secret))),
		tok("wrong Basic secret, body credentials", cc+"&client_id="+mainClient.id+"&client_secret="+mainClient.secret, 200, wrong),
		{name: "token/GET", method: "GET", target: "/o/token/", headers: []string{main}, want: 405},
		{name: "token/JSON body", method: "POST", target: "/o/token/", headers: []string{"Content-Type: application/json", main}, body: `{"grant_type":"client_credentials"}`, want: 400},
		tok("password grant", "grant_type=password&username=u&password=p", 400, main),
		post("token/query string", "/o/token/?x=1", cc, 400, main).on170(500),
		post("token/query string with state", "/o/token/?x=1&state=q", cc, 400, main).on170(500),
		post("token/bare ?", "/o/token/?", cc, 200, main),
		tok("repeated scope, last wins", cc+"&scope=admin&scope=read", 200, main),
		tok("repeated scope, last unknown", cc+"&scope=read&scope=admin", 400, main),
		tok("state echoed", cc+"&scope=admin&state=st%C3%A4te", 400, main),
		{name: "token/multipart body", method: "POST", target: "/o/token/", headers: []string{"Content-Type: multipart/form-data; boundary=XyZ", main}, body: multipart, want: 200},
		tok("wrong Basic secret, body names another client", cc+"&client_id="+otherClient.id+"&client_secret="+url.QueryEscape(otherClient.secret), 200, wrong).on170(401),
		tok("wrong Basic secret, body secret of the Basic client", cc+"&client_id="+otherClient.id+"&client_secret="+mainClient.secret, 401, wrong).on170(200),
		tok("a client parameter", cc+"&client=x", 200, main).on170(500),
		{name: "token/form content type in other case", method: "POST", target: "/o/token/", headers: []string{"Content-Type: Application/X-WWW-Form-Urlencoded", main}, body: cc, want: 200, want170: 400},
		tok("hashed secret", cc, 200, encodedAuth(hashedClient)),
		tok("unsupported grant type", "grant_type=foo", 400, main),

		// POST /o/revoke_token/
		rev("valid", "token={A}&token_type_hint=access_token", 200, main),
		active("revoked", "{A}"),
		rev("again", "token={A}&token_type_hint=access_token", 200, main),
		rev("unknown token", "token=no-such-token", 200, main),
		rev("hint refresh_token", "token={B}&token_type_hint=refresh_token", 200, main),
		active("after hint refresh_token", "{B}"),
		rev("hint foo", "token={C}&token_type_hint=foo", 200, main),
		active("after hint foo", "{C}"),
		rev("no hint", "token={D}", 200, main),
		active("after no hint", "{D}"),
		rev("missing token", "token_type_hint=access_token", 400, main),
		rev("empty token", "token=", 400, main),
		rev("wrong secret", "token={E}", 401, wrong),
		rev("no auth", "token={E}", 401),
		rev("lower-case basic", "token={E}", 401, "Authorization: basic "+base64.StdEncoding.EncodeToString([]byte(mainClient.id+":"+mainClient.secret))),
		rev("Bearer as client auth", "token={E}", 401, "Authorization: Bearer {F}"),
		rev("special, raw", "token={E}", 401, basicAuth(specialClient.id, specialClient.secret)),
		rev("special, path-escaped", "token={E}", 401, basicAuth(url.PathEscape(specialClient.id), url.PathEscape(specialClient.secret))),
		active("still live after refused revokes", "{E}"),
		rev("special, query-escaped", "token={E}", 200, encodedAuth(specialClient)),
		active("not revoked by another client", "{E}"),
		rev("another client's token", "token={O1}", 200, main),
		active("other client's token after its revoke", "{O1}"),
		{name: "revoke/GET", method: "GET", target: "/o/revoke_token/", headers: []string{main}, want: 405},
		{name: "revoke/JSON body", method: "POST", target: "/o/revoke_token/", headers: []string{"Content-Type: application/json", main}, body: `{"token":"{G}"}`, want: 400},
		active("not revoked by a JSON body", "{G}"),
		post("revoke/token in the query", "/o/revoke_token/?token={G}", "", 400, main),
		post("revoke/query string", "/o/revoke_token/?x=1", "token={G}", 400, main),
		active("not revoked through a query", "{G}"),
		rev("extra field", "token={G}&foo=bar", 200, main),
		active("revoked with an extra field", "{G}"),
		rev("state echoed", "state=s1", 400, main),

		// User tokens: an access token with its refresh token.
		post("user/introspect access token", "/o/introspect/", "token={UA1}", 200, main),
		rev("user/revoke refresh token", "token={UR1}&token_type_hint=refresh_token", 200, user),
		active("user/access token after its refresh token's revoke", "{UA1}"),
		tok("user/refresh grant with the revoked refresh token", "grant_type=refresh_token&refresh_token={UR1}", 400, user),
		rev("user/revoke access token", "token={UA2}&token_type_hint=access_token", 200, user),
		active("user/revoked access token", "{UA2}"),
		// 1.7.0 leaves the refresh token unrevoked, but crashes on it.
		tok("user/refresh grant after its access token's revoke", "grant_type=refresh_token&refresh_token={UR2}", 400, user).on170(500),
		tok("user/refresh grant by another client", "grant_type=refresh_token&refresh_token={UR3}", 400, main),
		tok("user/refresh grant", "grant_type=refresh_token&refresh_token={UR3}", 200, user),
		active("user/access token after a refresh grant", "{UA3}"),
		tok("user/refresh grant again", "grant_type=refresh_token&refresh_token={UR3}", 400, user),
		rev("user/another client revokes a refresh token", "token={UR4}", 200, main),
		tok("user/refresh grant after another client's revoke", "grant_type=refresh_token&refresh_token={UR4}", 200, user).on170(400),

		// POST /o/introspect/
		post("introspect/no auth", "/o/introspect/", "token={H}", 403),
		post("introspect/another client's credentials", "/o/introspect/", "token={H}", 200, encodedAuth(otherClient)),
		post("introspect/no token", "/o/introspect/", "", 400, main).on170(200),
		post("introspect/empty token", "/o/introspect/", "token=", 200, main),

		// Django's pages, and RFC 8414 metadata (3.4.1 only).
		{name: "page/unknown path", method: "GET", target: "/o/nowhere/", want: 404},
		{name: "metadata/RFC 8414", method: "GET", target: "/o/.well-known/oauth-authorization-server", want: 200, want170: 404},
	}
}

// paritySide is one server under test and the tokens issued on it.
type paritySide struct {
	name   string
	base   string
	tokens map[string]string
	// issueUser returns a new user token pair: on DOT by the password grant,
	// on the fake by IssueUserToken.
	issueUser func(ctx context.Context) (access, refresh string, err error)
}

var accessTokenRE = regexp.MustCompile(`"access_token":\s*"([^"]+)"`)

// token returns the token that {name} stands for, issuing it on first use.
func (s *paritySide) token(ctx context.Context, name string) (string, error) {
	if v, ok := s.tokens[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "UA") || strings.HasPrefix(name, "UR") {
		access, refresh, err := s.issueUser(ctx)
		if err != nil {
			return "", fmt.Errorf("issuing {%s}: %w", name, err)
		}
		s.tokens["UA"+name[2:]], s.tokens["UR"+name[2:]] = access, refresh
		return s.tokens[name], nil
	}
	c := mainClient
	if strings.HasPrefix(name, "O") {
		c = otherClient
	}
	body, _, _, err := s.send(ctx, rawRequest{method: "POST", target: "/o/token/", headers: []string{formType, encodedAuth(c)}, body: "grant_type=client_credentials"})
	if err != nil {
		return "", err
	}
	m := accessTokenRE.FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("issuing {%s}: no access_token in %q", name, body)
	}
	s.tokens[name] = string(m[1])
	return s.tokens[name], nil
}

var placeholderRE = regexp.MustCompile(`\{[A-Z][A-Z0-9]*\}`)

// fill replaces each {NAME} in x by its token.
func (s *paritySide) fill(ctx context.Context, x string) (string, error) {
	var err error
	out := placeholderRE.ReplaceAllStringFunc(x, func(m string) string {
		v, e := s.token(ctx, m[1:len(m)-1])
		if e != nil && err == nil {
			err = e
		}
		return v
	})
	return out, err
}

// ask sends r, with its placeholders filled, and returns the answer.
func (s *paritySide) ask(ctx context.Context, r rawRequest) (answer, error) {
	var err error
	if r.target, err = s.fill(ctx, r.target); err != nil {
		return answer{}, err
	}
	if r.body, err = s.fill(ctx, r.body); err != nil {
		return answer{}, err
	}
	headers := make([]string, len(r.headers))
	for i, h := range r.headers {
		if headers[i], err = s.fill(ctx, h); err != nil {
			return answer{}, err
		}
	}
	r.headers = headers
	body, status, contentType, err := s.send(ctx, r)
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: status, Type: contentType}
	var fields struct {
		Error  string `json:"error"`
		State  string `json:"state"`
		Scope  string `json:"scope"`
		Active *bool  `json:"active"`
	}
	if json.Unmarshal(body, &fields) == nil {
		a.Error, a.State, a.Scope = fields.Error, fields.State, fields.Scope
		if fields.Active != nil {
			a.Active = fmt.Sprint(*fields.Active)
		}
	}
	return a, nil
}

// send writes r on a new connection and reads the answer's body, status
// and Content-Type.
func (s *paritySide) send(ctx context.Context, r rawRequest) ([]byte, int, string, error) {
	u, err := url.Parse(s.base)
	if err != nil {
		return nil, 0, "", err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, 0, "", err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			return nil, 0, "", err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", r.method, r.target, u.Host)
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	if r.method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
	}
	b.WriteString("\r\n" + r.body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, 0, "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: r.method})
	if err != nil {
		return nil, 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body, resp.StatusCode, resp.Header.Get("Content-Type"), err
}

// passwordGrant issues a user token pair on DOT: the password grant for
// userClient and the seeded user.
func (s *paritySide) passwordGrant(ctx context.Context) (access, refresh string, err error) {
	form := url.Values{"grant_type": {"password"}, "username": {seededUser.name}, "password": {seededUser.password}}
	body, status, _, err := s.send(ctx, rawRequest{method: "POST", target: "/o/token/", headers: []string{formType, encodedAuth(userClient)}, body: form.Encode()})
	if err != nil {
		return "", "", err
	}
	var pair struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &pair) != nil || pair.Access == "" || pair.Refresh == "" {
		return "", "", fmt.Errorf("password grant: got status %d, body %q, want 200 and a token pair", status, body)
	}
	return pair.Access, pair.Refresh, nil
}

// fakeFor starts a cryptofusetest server in the mode of DOT version (in
// dotVersion's form) with the seeded clients, and returns it with the
// name of its mode. CRYPTOFUSE_PARITY_MODE=1.7.0 or 3.4.1 forces a mode,
// to show that the parity table tells the two versions apart.
func fakeFor(t *testing.T, version string) (*cryptofusetest.Server, string) {
	t.Helper()
	mode := "3.4.1"
	if strings.HasPrefix(version, "1.") {
		mode = "1.7.0"
	}
	if forced := os.Getenv("CRYPTOFUSE_PARITY_MODE"); forced != "" {
		mode = forced
	}
	var opts []cryptofusetest.Option
	switch mode {
	case "1.7.0":
		opts = append(opts, cryptofusetest.WithDOT170())
	case "3.4.1":
	default:
		t.Fatalf("CRYPTOFUSE_PARITY_MODE=%q: want 1.7.0 or 3.4.1", mode)
	}
	srv := cryptofusetest.NewServer(mainClient.id, mainClient.secret, opts...)
	t.Cleanup(srv.Close)
	for _, c := range []testClient{otherClient, specialClient, hashedClient, userClient} {
		srv.AddClient(c.id, c.secret)
	}
	return srv, mode
}

// TestFakeMatchesDOT sends the same requests to cryptofusetest and to the
// real server and requires the same status, error code, echoed state,
// granted scope and introspection result from both, so any drift of the fake fails CI.
//
// The fake runs in the mode of the server's version: the default (3.4.1)
// against DOT 3.4.1, WithDOT170 against 1.7.0. Each row's want is the status
// that version answers.
func TestFakeMatchesDOT(t *testing.T) {
	dot := &paritySide{name: "DOT", base: serverURL(t), tokens: map[string]string{}}
	dot.issueUser = dot.passwordGrant
	version := dotVersion(t)
	srv, mode := fakeFor(t, version)
	t.Logf("DOT %s, cryptofusetest in its %s mode", version, mode)
	fake := &paritySide{name: "cryptofusetest", base: srv.URL, tokens: map[string]string{},
		issueUser: func(context.Context) (string, string, error) {
			access, refresh := srv.IssueUserToken(userClient.id, seededUser.name, "")
			return access, refresh, nil
		}}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	for _, r := range parityTable() {
		t.Run(r.name, func(t *testing.T) {
			want, err := dot.ask(ctx, r)
			if err != nil {
				t.Fatalf("DOT: %v", err)
			}
			got, err := fake.ask(ctx, r)
			if err != nil {
				t.Fatalf("cryptofusetest: %v", err)
			}
			if w := r.wantFor(version); want.Status != w {
				t.Errorf("DOT %s answered %d, the table says %d: the fixture or DOT changed", version, want.Status, w)
			}
			if got != want {
				t.Errorf("cryptofusetest: got %+v, DOT: %+v", got, want)
			}
		})
	}
}
