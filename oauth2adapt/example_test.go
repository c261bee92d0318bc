package oauth2adapt_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"github.com/cryptofuse/cryptofuse-go/oauth2adapt"
	"golang.org/x/oauth2"
)

// Code written for x/oauth2 gets the SDK's managed token: one token,
// refreshed in the background, for every request.
func ExampleTokenSource() {
	srv := cryptofusetest.NewServer("my-service", "my-secret") // the built-in fake
	defer srv.Close()

	ctx := context.Background()
	c, err := cryptofuse.NewClient("my-service", "my-secret", cryptofuse.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ts, err := c.TokenSource(cryptofuse.TokenPolicy{})
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close(ctx)

	// oauth2.Transport, not oauth2.NewClient, which would cache the token
	// past a Rotate or Close.
	src := oauth2adapt.TokenSource(ctx, ts)
	hc := &http.Client{Transport: &oauth2.Transport{Source: src, Base: cryptofuse.NewTransport()}}
	for range 2 {
		resp, err := hc.Get(srv.URL + cryptofusetest.ResourcePath)
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(resp.Status, string(body))
	}
	fmt.Println("tokens issued:", srv.Counts().Token)
	// Output:
	// 200 OK {"client_id": "my-service", "scope": "read write"}
	// 200 OK {"client_id": "my-service", "scope": "read write"}
	// tokens issued: 1
}
