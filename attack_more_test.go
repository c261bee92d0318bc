package cryptofuse_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// Promise: a status line echoing the token/secret is scrubbed.
func TestAttackStatusLineEcho(t *testing.T) {
	srv := atkNewServer(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		tok := r.PostForm.Get("token")
		hj, _ := w.(http.Hijacker)
		conn, buf, _ := hj.Hijack()
		defer conn.Close()
		body := `{"error":"x"}`
		fmt.Fprintf(buf, "HTTP/1.1 400 Bad %s %s %s\r\nContent-Type: application/json\r\nX-T: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			tok, atkSecret, url.QueryEscape(atkSecret), tok, len(body), body)
		buf.Flush()
	})
	var r atkRec
	cl := atkClient(t, srv.URL, cryptofuse.WithHooks(cryptofuse.Hooks{Attempt: r.hook}))
	_, err := cl.Introspect(context.Background(), atkToken)
	var e *cryptofuse.Error
	if !errors.As(err, &e) || e.StatusCode != 400 {
		t.Fatalf("err %v", err)
	}
	atkNoLeak(t, "err", fmt.Sprintf("%v %+v %#v", err, e, *e), atkSecret, atkToken)
	for _, s := range r.txt {
		atkNoLeak(t, "hook err", s, atkSecret, atkToken)
	}
	err = cl.RevokeAndVerify(context.Background(), atkToken, "")
	if err == nil {
		t.Fatal("nil")
	}
	atkNoLeak(t, "rav err", err.Error(), atkSecret, atkToken)
	_ = bufio.NewReader
}
