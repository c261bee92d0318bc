package cryptofuse_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// Secrets used by the attack tests: long enough to be scrubbed anywhere.
const (
	atkID     = "atk-client"
	atkSecret = "atkSECRETvalue-9f8e7d6c5b4a"
	atkToken  = "atkTOKENvalue-0a1b2c3d4e5f6g"
)

func atkFastRetry() cryptofuse.Option {
	return cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})
}

// atkServer runs h on an httptest server and counts requests per path.
type atkServer struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
	total  atomic.Int64
}

func (s *atkServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

func atkNewServer(t *testing.T, h http.HandlerFunc) *atkServer {
	t.Helper()
	s := &atkServer{counts: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.counts[r.URL.Path]++
		s.mu.Unlock()
		s.total.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func atkClient(t *testing.T, base string, opts ...cryptofuse.Option) *cryptofuse.Client {
	t.Helper()
	all := append([]cryptofuse.Option{cryptofuse.WithBaseURL(base), atkFastRetry()}, opts...)
	c, err := cryptofuse.NewClient(atkID, atkSecret, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// atkEncodings returns the forms in which a secret value could leak.
func atkEncodings(v string) []string {
	return []string{
		v,
		url.QueryEscape(v),
	}
}

// atkBasic is the Basic credential the SDK sends (RFC 6749 §2.3.1).
func atkBasic() string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(atkID) + ":" + url.QueryEscape(atkSecret)))
}

// atkNoLeak fails when s holds any secret value in any of the encodings.
func atkNoLeak(t *testing.T, where, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		for _, enc := range atkEncodings(sec) {
			if strings.Contains(s, enc) {
				t.Errorf("%s leaks %q (as %q): %.300s", where, sec, enc, s)
				return
			}
		}
	}
	if strings.Contains(s, atkBasic()) {
		t.Errorf("%s leaks the Basic credential: %.300s", where, s)
	}
}

var atkVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v", "%-40s", "%t", "%e"}

// atkFormatAll formats v with every verb, value and pointer.
func atkFormatAll(t *testing.T, name string, v any, secrets ...string) {
	t.Helper()
	for _, verb := range atkVerbs {
		atkNoLeak(t, name+" "+verb, fmt.Sprintf(verb, v), secrets...)
	}
	atkNoLeak(t, name+" Sprint", fmt.Sprint(v), secrets...)
	atkNoLeak(t, name+" Sprintln", fmt.Sprintln(v, v), secrets...)
	atkNoLeak(t, name+" slice", fmt.Sprintf("%v %+v %#v", []any{v}, []any{v}, []any{v}), secrets...)
	atkNoLeak(t, name+" map", fmt.Sprintf("%v %+v %#v", map[string]any{"k": v}, map[string]any{"k": v}, map[string]any{"k": v}), secrets...)
	atkNoLeak(t, name+" struct", fmt.Sprintf("%v %+v %#v", struct{ X any }{v}, struct{ X any }{v}, struct{ X any }{v}), secrets...)
}
