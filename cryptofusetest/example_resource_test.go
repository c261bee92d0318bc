package cryptofusetest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// Code that calls the API with a bearer token can be tested against the
// fake's protected resource: an active token gets 200 with its client and
// scope, a revoked one 401 with an RFC 6750 challenge.
func ExampleServer_resource() {
	srv := cryptofusetest.NewServer("my-id", "my-secret")
	defer srv.Close()
	tok := srv.IssueToken("my-id", "read write")

	call := func() {
		req, err := http.NewRequest(http.MethodGet, srv.URL+cryptofusetest.ResourcePath, nil)
		if err != nil {
			panic(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			panic(err)
		}
		fmt.Println(resp.Status, resp.Header.Get("WWW-Authenticate"), string(body))
	}
	call()

	// Revoke it, as the code under test might.
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
	resp.Body.Close()
	call()
	fmt.Println("resource requests:", srv.Counts().Resource)
	// Output:
	// 200 OK  {"client_id": "my-id", "scope": "read write"}
	// 401 Unauthorized Bearer error="invalid_token" {"error": "invalid_token"}
	// resource requests: 2
}
