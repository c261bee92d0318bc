package cryptofuse_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
)

// RevokeAndVerify tells a revocation that took from one the server answered
// 200 and ignored: django-oauth-toolkit 3.x (as the fake by default) keeps a
// token issued to another client.
func ExampleClient_RevokeAndVerify() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	srv.AddClient("other-app", "other-secret")
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	own := srv.IssueToken("my-service", "")
	fmt.Println("own token:", c.RevokeAndVerify(ctx, own, cryptofuse.AccessTokenHint))

	foreign := srv.IssueToken("other-app", "")
	fmt.Println("Revoke alone:", c.Revoke(ctx, foreign, cryptofuse.AccessTokenHint))
	err = c.RevokeAndVerify(ctx, foreign, cryptofuse.AccessTokenHint)
	fmt.Println("still active:", errors.Is(err, cryptofuse.ErrStillActive))
	// Output:
	// own token: <nil>
	// Revoke alone: <nil>
	// still active: true
}

// Introspect asks the server whether a token is active (RFC 7662), and
// what it knows of it.
func ExampleClient_Introspect() {
	srv := cryptofusetest.NewServer("my-service", "my-secret")
	defer srv.Close()
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	tok := srv.IssueToken("my-service", "read write")

	in, err := c.Introspect(context.Background(), tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(in.Active, in.ClientID, in.Scope, !in.Expiry.IsZero())
	// Output:
	// true my-service read write true
}
