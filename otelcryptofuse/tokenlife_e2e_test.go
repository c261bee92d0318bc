package otelcryptofuse

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/cryptofusetest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// issuedTokens is a RoundTripper over the fake server's in-memory
// transport that keeps every access token the token endpoint issues, so
// that the test can look for each of them in the telemetry, also those
// the TokenSource never handed out.
type issuedTokens struct {
	base http.RoundTripper
	mu   sync.Mutex
	toks []string
}

func (it *issuedTokens) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := it.base.RoundTrip(req)
	if err != nil || req.URL.Path != cryptofusetest.TokenPath || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" {
		it.mu.Lock()
		it.toks = append(it.toks, tok.AccessToken)
		it.mu.Unlock()
	}
	return resp, nil
}

func (it *issuedTokens) all() []string {
	it.mu.Lock()
	defer it.mu.Unlock()
	return append([]string(nil), it.toks...)
}

// plainStore hides DirStore's SharedStore methods: the TokenSource then
// uses it as a plain TokenStore (get, put, delete), not as a fleet's,
// whose polling and membership calls would make the store counts depend on
// the schedule.
type plainStore struct{ cryptofuse.TokenStore }

// TestTokenLifeEndToEnd runs a real TokenSource, instrumented, against
// the fake server inside a testing/synctest bubble (no socket, fake
// clock), through a first token, a refresh that fails once and then
// succeeds, a revocation after RevokeAfter, a Rotate, a revocation that
// fails (503 on every attempt), a 401 through ts.Transport that rejects the
// token and replays, and Close with RevokeOnClose, which retries the failed
// revocation. It then reads back every span and metric and checks them
// against what happened, exactly where the schedule makes it exact, and
// that no telemetry holds the secret, a token or a fingerprint.
func TestTokenLifeEndToEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t) // the gauge reads time.Now: the bubble's clock
		srv := cryptofusetest.NewServer(testID, testSecret, cryptofusetest.WithoutListener(),
			cryptofusetest.WithExpiresIn(time.Hour))
		defer srv.Close()
		issued := &issuedTokens{base: srv.Transport()}
		c, err := cryptofuse.NewClient(testID, testSecret,
			cryptofuse.WithBaseURL(srv.URL),
			cryptofuse.WithHTTPClient(&http.Client{Transport: issued}),
			cryptofuse.WithHooks(h.inst.Hooks()),
			// Two attempts: a 503 is retried once, so the spans carry
			// the resend count and cryptofuse.request.retries counts.
			cryptofuse.WithRetry(cryptofuse.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		ts, err := c.TokenSource(cryptofuse.TokenPolicy{
			RevokeAfter:   time.Minute,
			RevokeOnClose: true,
			Store:         plainStore{cryptofuse.DirStore(t.TempDir())},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		id := AttrClientID.String(testID)

		// lifetime checks the gauge against the current token: its
		// expiry minus the bubble's now, exactly.
		lifetime := func(what string, cur *cryptofuse.Token) {
			t.Helper()
			want := map[string]float64{}
			if cur != nil {
				want[attrs(id)] = time.Until(cur.Expiry).Seconds()
			}
			assertMap(t, what+": "+MetricRemainingLifetime, gauge(t, h.metrics(t), MetricRemainingLifetime), want)
		}
		token := func(what string) *cryptofuse.Token {
			t.Helper()
			tok, err := ts.Token(ctx)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			synctest.Wait() // the hooks and the store write of a new token
			return tok
		}

		// 1. The first token: a store miss, then a token request.
		tok1 := token("first Token")
		if tok1.ExpiresIn != 3600 {
			t.Fatalf("expires_in: got %d, want 3600", tok1.ExpiresIn)
		}
		lifetime("first token", tok1)
		if got := gauge(t, h.metrics(t), MetricRemainingLifetime)[attrs(id)]; got != 3600 {
			t.Errorf("remaining lifetime of a new one-hour token: got %v, want 3600", got)
		}

		// 2. The refresh window (at most 5 min before expiry): the first
		// background refresh gets 503 twice and fails; the next, after the
		// backoff (at most 1 s), succeeds.
		time.Sleep(57 * time.Minute)
		synctest.Wait() // the refresh timer marks the token due
		lifetime("57 min later", tok1)
		srv.InjectFault(2, cryptofusetest.Fault{Path: cryptofusetest.TokenPath, Status: http.StatusServiceUnavailable})
		if got := token("Token in the refresh window"); got.AccessToken != tok1.AccessToken {
			t.Fatal("Token in the refresh window: got a new token, want the current one while the refresh runs")
		}
		time.Sleep(2 * time.Second) // past the retry (1 ms) and the backoff (at most 1 s)
		synctest.Wait()
		if got := token("Token after the backoff"); got.AccessToken != tok1.AccessToken {
			t.Fatal("Token after the backoff: got a new token, want the current one while the refresh runs")
		}
		tok2 := token("Token after the refresh")
		if tok2.AccessToken == tok1.AccessToken {
			t.Fatal("no new token after the refresh")
		}
		lifetime("refreshed", tok2)

		// 3. RevokeAfter: the replaced token is revoked.
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if srv.Active(tok1.AccessToken) {
			t.Error("the refreshed-away token is still active after RevokeAfter")
		}
		lifetime("after RevokeAfter", tok2)

		// 4. Rotate; the revocation of the rotated-away token gets 503 on
		// both attempts and fails (Close retries it).
		tok3, err := ts.Rotate(ctx)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		synctest.Wait()
		srv.InjectFault(2, cryptofusetest.Fault{Path: cryptofusetest.RevokePath, Status: http.StatusServiceUnavailable})
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if !srv.Active(tok2.AccessToken) {
			t.Error("the rotated-away token was revoked, want a failed revocation")
		}
		lifetime("rotated", tok3)

		// 5. A 401: the current token is revoked behind the source's
		// back; the resource answers 401, the Transport rejects the
		// token, gets a new one and replays.
		if err := c.Revoke(ctx, tok3.AccessToken, cryptofuse.AccessTokenHint); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		api := &http.Client{Transport: ts.Transport(srv.Transport())}
		resp, err := api.Get(srv.URL + cryptofusetest.ResourcePath)
		if err != nil {
			t.Fatalf("GET resource: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET resource after a 401: got %d, want 200 (replayed with a new token)", resp.StatusCode)
		}
		synctest.Wait()
		tok4 := token("Token after the 401")
		if tok4.AccessToken == tok3.AccessToken {
			t.Fatal("the rejected token is still current")
		}
		lifetime("after the 401", tok4)

		// 6. Close revokes the current token, the one whose revocation
		// failed, and the rejected one (its RevokeAfter had not passed).
		if err := ts.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		synctest.Wait()
		for i, tok := range []*cryptofuse.Token{tok1, tok2, tok3, tok4} {
			if srv.Active(tok.AccessToken) {
				t.Errorf("token %d still active after Close", i+1)
			}
		}
		lifetime("closed", nil)

		counts := srv.Counts()
		wantCounts := cryptofusetest.Counts{Token: 6, Revoke: 7, Resource: 2, Faulted: 4}
		if counts != wantCounts {
			t.Errorf("server counts: got %+v, want %+v", counts, wantCounts)
		}
		if got := issued.all(); len(got) != 4 {
			t.Errorf("tokens issued: got %d, want 4", len(got))
		}

		ms := h.metrics(t)
		reason := func(r cryptofuse.TokenReason) string { return attrs(id, AttrReason.String(string(r))) }
		assertMap(t, MetricTokensObtained, sums(t, ms, MetricTokensObtained), map[string]int64{
			reason(cryptofuse.ReasonFirst):    1,
			reason(cryptofuse.ReasonRefresh):  1,
			reason(cryptofuse.ReasonRotate):   1,
			reason(cryptofuse.ReasonRejected): 1,
		})
		assertMap(t, MetricRefreshFailures, sums(t, ms, MetricRefreshFailures), map[string]int64{
			attrs(id, AttrReason.String(string(cryptofuse.ReasonRefresh)), semconv.ErrorTypeKey.String("503")): 1,
		})
		assertMap(t, MetricInvalidations, sums(t, ms, MetricInvalidations), map[string]int64{
			attrs(id, AttrInvalidationCause.String("401")): 1,
		})
		assertMap(t, MetricRevocations, sums(t, ms, MetricRevocations), map[string]int64{
			attrs(id, AttrRevocationWhen.String("revoke_after"), AttrOutcome.String(OutcomeOK)): 1,
			attrs(id, AttrRevocationWhen.String("revoke_after"), AttrOutcome.String(OutcomeError),
				semconv.ErrorTypeKey.String("503")): 1,
			attrs(id, AttrRevocationWhen.String("close"), AttrOutcome.String(OutcomeOK)): 3,
		})
		assertMap(t, MetricRetries, sums(t, ms, MetricRetries), map[string]int64{
			attrs(AttrOperation.String("token"), semconv.ErrorTypeKey.String("503")):  1,
			attrs(AttrOperation.String("revoke"), semconv.ErrorTypeKey.String("503")): 1,
		})
		// The store: one miss at the start, one put per token, a delete
		// at Close (RevokeOnClose). The delete a 401 starts races with the
		// put of the token that replaces it, and is skipped when the put
		// comes first (a delete never removes a newer token): 1 or 2.
		store := sums(t, ms, MetricStoreOperations)
		storeOp := func(op string, outcome cryptofuse.StoreOutcome) string {
			return attrs(id, AttrStoreOperation.String(op), AttrOutcome.String(string(outcome)))
		}
		if n := store[storeOp("delete", cryptofuse.StoreOK)]; n != 1 && n != 2 {
			t.Errorf("%s[%s]: got %d, want 1 or 2", MetricStoreOperations, storeOp("delete", cryptofuse.StoreOK), n)
		}
		delete(store, storeOp("delete", cryptofuse.StoreOK))
		assertMap(t, MetricStoreOperations, store, map[string]int64{
			storeOp("get", cryptofuse.StoreMiss): 1,
			storeOp("put", cryptofuse.StoreOK):   4,
		})

		// http.client.request.duration: one measurement per attempt.
		point := func(op string, status int) string {
			kvs := []attribute.KeyValue{
				semconv.HTTPRequestMethodKey.String(http.MethodPost),
				semconv.ServerAddress("127.0.0.1"),
				semconv.ServerPort(9),
				AttrOperation.String(op),
				semconv.HTTPResponseStatusCode(status),
			}
			if status >= 300 {
				kvs = append(kvs, semconv.ErrorTypeKey.String(fmt.Sprint(status)))
			}
			return attrs(kvs...)
		}
		assertMap(t, "http.client.request.duration", histogramCounts(t, ms, "http.client.request.duration"), map[string]uint64{
			point("token", 200):  4, // first, refresh, rotate, after the 401
			point("token", 503):  2, // the failed refresh
			point("revoke", 200): 5, // RevokeAfter, the test's own, Close's three
			point("revoke", 503): 2, // the failed RevokeAfter revocation
		})
		if m := ms["http.client.request.duration"]; m.Unit != "s" {
			t.Errorf("http.client.request.duration: unit: got %q, want %q", m.Unit, "s")
		}

		checkSpans(t, h.spans.GetSpans(), srv.URL)

		secrets := []string{testSecret, base64.StdEncoding.EncodeToString([]byte(testID + ":" + testSecret))}
		for _, tok := range issued.all() {
			secrets = append(secrets, tok, cryptofuse.Fingerprint(tok))
		}
		assertNoSecret(t, h, secrets...)
	})
}

// checkSpans checks the spans of TestTokenLifeEndToEnd: one client span
// "POST" per attempt, in order, with the HTTP client attributes of the
// semantic conventions, and those of a failed attempt with its error.type,
// resend count and the reason it was retried or given up.
func checkSpans(t *testing.T, spans tracetest.SpanStubs, baseURL string) {
	t.Helper()
	type want struct {
		op      string
		status  int
		attempt int
		gaveUp  string
	}
	wants := []want{
		{op: "token", status: 200, attempt: 1},                               // first
		{op: "token", status: 503, attempt: 1},                               // refresh, retried
		{op: "token", status: 503, attempt: 2, gaveUp: "attempts exhausted"}, // refresh fails
		{op: "token", status: 200, attempt: 1},                               // refresh after the backoff
		{op: "revoke", status: 200, attempt: 1},                              // RevokeAfter
		{op: "token", status: 200, attempt: 1},                               // Rotate
		{op: "revoke", status: 503, attempt: 1},                              // RevokeAfter, retried
		{op: "revoke", status: 503, attempt: 2, gaveUp: "attempts exhausted"},
		{op: "revoke", status: 200, attempt: 1}, // the test's own revocation
		{op: "token", status: 200, attempt: 1},  // after the 401
		{op: "revoke", status: 200, attempt: 1}, // Close: current
		{op: "revoke", status: 200, attempt: 1}, // Close: the failed one
		{op: "revoke", status: 200, attempt: 1}, // Close: the rejected one
	}
	if len(spans) != len(wants) {
		t.Fatalf("got %d spans, want %d, one per attempt", len(spans), len(wants))
	}
	path := map[string]string{"token": cryptofusetest.TokenPath, "revoke": cryptofusetest.RevokePath}
	for i, w := range wants {
		s := spans[i]
		what := fmt.Sprintf("span %d (%s, %d, attempt %d)", i, w.op, w.status, w.attempt)
		if s.Name != http.MethodPost || s.SpanKind != trace.SpanKindClient {
			t.Errorf("%s: got %q %v, want %q client", what, s.Name, s.SpanKind, http.MethodPost)
		}
		got := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes {
			got[kv.Key] = kv.Value
		}
		exp := map[attribute.Key]attribute.Value{
			semconv.HTTPRequestMethodKey:      attribute.StringValue(http.MethodPost),
			semconv.ServerAddressKey:          attribute.StringValue("127.0.0.1"),
			semconv.ServerPortKey:             attribute.IntValue(9),
			semconv.URLFullKey:                attribute.StringValue(baseURL + path[w.op]),
			semconv.HTTPResponseStatusCodeKey: attribute.IntValue(w.status),
			AttrOperation:                     attribute.StringValue(w.op),
		}
		if w.status >= 300 {
			exp[semconv.ErrorTypeKey] = attribute.StringValue(fmt.Sprint(w.status))
			if w.gaveUp != "" {
				exp[AttrGaveUp] = attribute.StringValue(w.gaveUp)
			}
		}
		if w.attempt > 1 {
			exp[semconv.HTTPRequestResendCountKey] = attribute.IntValue(w.attempt - 1)
		}
		retried := w.status >= 300 && w.gaveUp == ""
		if retried {
			if _, ok := got[AttrRetryIn]; !ok {
				t.Errorf("%s: no %s", what, AttrRetryIn)
			}
			delete(got, AttrRetryIn) // jittered
		}
		for k, v := range exp {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s: %s: got %v (present: %v), want %v", what, k, g.String(), ok, v.String())
			}
		}
		for k, v := range got {
			if _, ok := exp[k]; !ok {
				t.Errorf("%s: unexpected attribute %s=%v", what, k, v.String())
			}
		}
		wantCode := codes.Unset
		if w.status >= 300 {
			wantCode = codes.Error
		}
		if s.Status.Code != wantCode {
			t.Errorf("%s: status: got %v, want %v", what, s.Status.Code, wantCode)
		}
		if w.status >= 300 && !strings.Contains(s.Status.Description, fmt.Sprint(w.status)) {
			t.Errorf("%s: status description %q does not name %d", what, s.Status.Description, w.status)
		}
		if s.EndTime.Before(s.StartTime) {
			t.Errorf("%s: ends before it starts", what)
		}
	}
}

// TestTokenLifeFleetStore: over a DirStore used as a SharedStore (a fleet
// of one), the store calls of the fleet (lock, join, leave, ...) are
// counted by operation and outcome, beside the token's life. The fleet
// polls and renews on timers, so only the operations that must appear,
// and the token counts, are checked exactly.
func TestTokenLifeFleetStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		srv := cryptofusetest.NewServer(testID, testSecret, cryptofusetest.WithoutListener())
		defer srv.Close()
		c, err := cryptofuse.NewClient(testID, testSecret, cryptofuse.WithBaseURL(srv.URL),
			cryptofuse.WithHTTPClient(srv.Client()), cryptofuse.WithHooks(h.inst.Hooks()))
		if err != nil {
			t.Fatal(err)
		}
		ts, err := c.TokenSource(cryptofuse.TokenPolicy{RevokeOnClose: true, Store: cryptofuse.DirStore(t.TempDir())})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		// settle lets the fleet's store calls finish: DirStore polls its
		// guard file on timers when two calls meet there, and those
		// timers fire only when the bubble's clock moves.
		settle := func() {
			time.Sleep(time.Second)
			synctest.Wait()
		}
		tok1, err := ts.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		settle()
		tok2, err := ts.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		settle()
		if err := ts.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		synctest.Wait()
		if srv.Active(tok1.AccessToken) || srv.Active(tok2.AccessToken) {
			t.Error("a token of the fleet of one is still active after Close with RevokeOnClose")
		}

		ms := h.metrics(t)
		id := AttrClientID.String(testID)
		assertMap(t, MetricTokensObtained, sums(t, ms, MetricTokensObtained), map[string]int64{
			attrs(id, AttrReason.String(string(cryptofuse.ReasonFirst))):  1,
			attrs(id, AttrReason.String(string(cryptofuse.ReasonRotate))): 1,
		})
		store := sums(t, ms, MetricStoreOperations)
		for _, op := range []string{"lock", "put", "join", "leave"} {
			k := attrs(id, AttrStoreOperation.String(op), AttrOutcome.String(string(cryptofuse.StoreOK)))
			if store[k] < 1 {
				t.Errorf("%s[%s]: got %d, want at least 1 (all: %v)", MetricStoreOperations, k, store[k], store)
			}
		}
		for k := range store {
			if strings.Contains(k, "outcome=error") {
				t.Errorf("%s: a failed store call: %s (all: %v)", MetricStoreOperations, k, store)
			}
		}
		var revoked int64
		for _, n := range sums(t, ms, MetricRevocations) {
			revoked += n
		}
		if want := int64(srv.Counts().Revoke); revoked != want {
			t.Errorf("%s: got %d in all, want %d, one per revocation request", MetricRevocations, revoked, want)
		}
		assertNoSecret(t, h, testSecret, tok1.AccessToken, tok2.AccessToken,
			cryptofuse.Fingerprint(tok1.AccessToken), cryptofuse.Fingerprint(tok2.AccessToken))
	})
}
