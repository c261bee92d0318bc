package cryptofuse_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
	"github.com/cryptofuse/cryptofuse-go/internal/benchserver"
)

// cannedTransport answers every request with a copy of resp, without a
// network: it allocates one *http.Response (and, with a body, one reader
// and its NopCloser) per call.
type cannedTransport struct {
	status int
	body   string
}

func (ct cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body io.ReadCloser = http.NoBody
	if ct.body != "" {
		body = io.NopCloser(strings.NewReader(ct.body))
	}
	return &http.Response{
		Status:        http.StatusText(ct.status),
		StatusCode:    ct.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          body,
		ContentLength: int64(len(ct.body)),
		Request:       req,
	}, nil
}

// TestAllocsPerCall guards the allocations of one successful call, against
// cannedTransport, so that a change that adds allocations to the success
// path fails here deterministically rather than only showing in the
// benchmarks. It asserts two things per case:
//
//   - the SDK allocates at most margin more than the floor (bench_test.go)
//     does with the same transport and context: 0 for Revoke with a
//     deadline or against a floor with the same bound, 5 with
//     context.Background() (the 4 of the DefaultTimeout bound, below, plus
//     one of headroom); 7 for Token, what it allocates now;
//   - the SDK allocates at most limit, which is the count measured with go1.26
//     on linux/amd64 plus 2 of headroom for other Go versions. If a change
//     lowers a count, lower its limit with it.
//
// The measured counts (SDK / floor): revoke 20/16 with context.Background()
// and 16/16 with a ctx that has a deadline; token 32/26 and 28/26 (the floor
// decodes the same JSON into a plain struct). The 4 extra allocations with
// context.Background() are the SDK's DefaultTimeout: a context.WithTimeout per
// call (the timerCtx, its timer, its Done channel, and the cancel func's
// closure). Token's other 2 are the io.LimitReader of the capped read and
// the *Token built from the decoded wire struct. The retry loop allocates
// nothing on success. cannedTransport's *http.Response (and the token body's
// reader) count in both.
//
// It is not parallel, and neither are its subtests: testing.AllocsPerRun
// counts the allocations of the whole process, so a test running beside it
// would add to the count.
func TestAllocsPerCall(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes net/http's allocations vary (sync.Pool drops items at random)")
	}
	deadline, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	revoke := cannedTransport{status: http.StatusOK}
	token := cannedTransport{status: http.StatusOK, body: benchserver.TokenAnswer}
	cases := []struct {
		name   string
		ctx    context.Context
		rt     cannedTransport
		sdk    func(context.Context, *cryptofuse.Client) error
		floor  func(context.Context, *floor) error
		margin float64
		limit  float64
	}{
		{"revoke/ctx=background", context.Background(), revoke, sdkRevoke, floorRevoke, 5, 20 + 2},
		// With a deadline, Revoke does exactly the floor's work: the retry
		// loop and the skipped drain of an empty body allocate nothing.
		{"revoke/ctx=deadline", deadline, revoke, sdkRevoke, floorRevoke, 0, 16 + 2},
		{"token/ctx=background", context.Background(), token, sdkToken, floorTokenCall, 7, 32 + 2},
		{"token/ctx=deadline", deadline, token, sdkToken, floorTokenCall, 7, 28 + 2},
		// With the same DefaultTimeout bound as the SDK, the floor allocates
		// as much as the SDK's Revoke: the bound is the whole difference.
		{"revoke/ctx=background/floor=bounded", context.Background(), revoke, sdkRevoke, bounded(floorRevoke), 0, 20 + 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const baseURL = "http://127.0.0.1:1" // never dialled
			c, err := cryptofuse.NewClient(benchID, benchSecret,
				cryptofuse.WithBaseURL(baseURL),
				cryptofuse.WithHTTPClient(&http.Client{Transport: tc.rt}))
			if err != nil {
				t.Fatal(err)
			}
			f := newFloor(&http.Client{Transport: tc.rt}, baseURL)

			sdk := allocsPerCall(t, func() error { return tc.sdk(tc.ctx, c) })
			fl := allocsPerCall(t, func() error { return tc.floor(tc.ctx, f) })
			t.Logf("allocs per call: sdk %v, floor %v", sdk, fl)
			if sdk > fl+tc.margin {
				t.Errorf("got %v allocs per call, want at most the floor's %v + %v", sdk, fl, tc.margin)
			}
			if sdk > tc.limit {
				t.Errorf("got %v allocs per call, want at most %v", sdk, tc.limit)
			}
		})
	}
}

// allocsPerCall returns testing.AllocsPerRun of call, and fails t if call
// ever fails.
func allocsPerCall(t *testing.T, call func() error) float64 {
	t.Helper()
	var callErr error
	n := testing.AllocsPerRun(100, func() {
		if err := call(); err != nil {
			callErr = err
		}
	})
	if callErr != nil {
		t.Fatalf("call failed: %v", callErr)
	}
	return n
}

func sdkRevoke(ctx context.Context, c *cryptofuse.Client) error {
	return c.Revoke(ctx, benchToken, cryptofuse.AccessTokenHint)
}

func sdkToken(ctx context.Context, c *cryptofuse.Client) error {
	_, err := c.Token(ctx)
	return err
}

func floorRevoke(ctx context.Context, f *floor) error { return f.revoke(ctx, benchToken) }

// bounded gives a floor call the bound the SDK gives a ctx without a
// deadline.
func bounded(call func(context.Context, *floor) error) func(context.Context, *floor) error {
	return func(ctx context.Context, f *floor) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, cryptofuse.DefaultTimeout)
			defer cancel()
		}
		return call(ctx, f)
	}
}

func floorTokenCall(ctx context.Context, f *floor) error {
	_, err := f.token(ctx)
	return err
}
