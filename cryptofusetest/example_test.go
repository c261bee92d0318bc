package cryptofusetest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// A test that needs a token to revoke mints one directly, lets the code
// under test revoke it (here, plain net/http), and checks the outcome.
func ExampleServer() {
	srv := cryptofusetest.NewServer("my-id", "my-secret")
	defer srv.Close()

	tok := srv.IssueToken("my-id", "")

	form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/o/revoke_token/", strings.NewReader(form.Encode()))
	if err != nil {
		panic(err)
	}
	req.SetBasicAuth(url.QueryEscape("my-id"), url.QueryEscape("my-secret"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	fmt.Println(resp.Status)
	fmt.Println("active:", srv.Active(tok))
	fmt.Println("revoke requests:", srv.Counts().Revoke)
	// Output:
	// 200 OK
	// active: false
	// revoke requests: 1
}

// A fake clock lets a test expire a token without sleeping.
func ExampleWithClock() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := cryptofusetest.NewServer("my-id", "my-secret",
		cryptofusetest.WithExpiresIn(time.Hour),
		cryptofusetest.WithClock(func() time.Time { return now }))
	defer srv.Close()

	tok := srv.IssueToken("my-id", "read write")
	fmt.Println("active:", srv.Active(tok))
	now = now.Add(time.Hour)
	fmt.Println("active an hour later:", srv.Active(tok))

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/o/introspect/", strings.NewReader("token="+tok))
	if err != nil {
		panic(err)
	}
	req.SetBasicAuth("my-id", "my-secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(body))
	// Output:
	// active: true
	// active an hour later: false
	// {"active": false}
}

// A test of a client's retries makes the server answer the next revocation
// with 503 and Retry-After. The faulted request never reaches the endpoint,
// so the token stays active until the retry revokes it.
func ExampleServer_InjectFault() {
	srv := cryptofusetest.NewServer("my-id", "my-secret")
	defer srv.Close()
	tok := srv.IssueToken("my-id", "")

	srv.InjectFault(1, cryptofusetest.Fault{
		Path:       cryptofusetest.RevokePath,
		Status:     http.StatusServiceUnavailable,
		RetryAfter: "1",
	})

	revoke := func() {
		req, err := http.NewRequest(http.MethodPost, srv.URL+cryptofusetest.RevokePath, strings.NewReader("token="+tok))
		if err != nil {
			panic(err)
		}
		req.SetBasicAuth("my-id", "my-secret")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		fmt.Printf("%s, Retry-After %q, active: %v\n", resp.Status, resp.Header.Get("Retry-After"), srv.Active(tok))
	}
	revoke() // faulted
	revoke() // the real answer

	c := srv.Counts()
	fmt.Println("revoke requests:", c.Revoke, "faulted:", c.Faulted)
	// Output:
	// 503 Service Unavailable, Retry-After "1", active: true
	// 200 OK, Retry-After "", active: false
	// revoke requests: 2 faulted: 1
}

// A logout test issues a user's token pair and checks which tokens survive
// a revocation, per server version: revoking the access token takes the
// refresh token along on 3.4.1 (the default) but not on 1.7.0.
func ExampleServer_IssueUserToken() {
	revokeAccess := func(srv *cryptofusetest.Server, tok string) {
		form := url.Values{"token": {tok}, "token_type_hint": {"access_token"}}
		req, err := http.NewRequest(http.MethodPost, srv.URL+cryptofusetest.RevokePath, strings.NewReader(form.Encode()))
		if err != nil {
			panic(err)
		}
		req.SetBasicAuth("my-id", "my-secret")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	for _, mode := range []struct {
		name string
		opts []cryptofusetest.Option
	}{{"3.4.1", nil}, {"1.7.0", []cryptofusetest.Option{cryptofusetest.WithDOT170()}}} {
		srv := cryptofusetest.NewServer("my-id", "my-secret", mode.opts...)
		access, refresh := srv.IssueUserToken("my-id", "alice", "")
		revokeAccess(srv, access)
		fmt.Printf("%s: access active %v, refresh active %v\n", mode.name, srv.Active(access), srv.ActiveRefresh(refresh))
		srv.Close()
	}
	// Output:
	// 3.4.1: access active false, refresh active false
	// 1.7.0: access active false, refresh active true
}
