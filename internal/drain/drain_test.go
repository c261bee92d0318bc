package drain

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// body is a response body that serves r, then blocks in Read until it is
// closed when stall is set; it counts the bytes read.
type body struct {
	r      io.Reader
	stall  bool
	read   atomic.Int64
	closed chan struct{}
	once   atomic.Bool
}

func newBody(r io.Reader, stall bool) *body {
	return &body{r: r, stall: stall, closed: make(chan struct{})}
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	if errors.Is(err, io.EOF) && b.stall {
		<-b.closed
		return n, errors.New("read on closed body")
	}
	return n, err
}

func (b *body) Close() error {
	if b.once.CompareAndSwap(false, true) {
		close(b.closed)
	}
	return nil
}

func TestClose(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		body     func() *body // built inside the bubble, so that a Read blocked on it is durably blocked
		wantRead int64
		wantTime time.Duration
	}{
		{"short body read to its end", func() *body { return newBody(strings.NewReader("abc"), false) }, 3, 0},
		{"long body cut at MaxSize", func() *body { return newBody(strings.NewReader(strings.Repeat("x", MaxSize+10)), false) }, MaxSize, 0},
		{"stalled body closed after MaxTime", func() *body { return newBody(strings.NewReader("ab"), true) }, 2, MaxTime},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := tc.body()
				start := time.Now()
				Close(b)
				if got := time.Since(start); got != tc.wantTime {
					t.Errorf("Close took %v, want %v", got, tc.wantTime)
				}
				if got := b.read.Load(); got != tc.wantRead {
					t.Errorf("read %d bytes, want %d", got, tc.wantRead)
				}
				if !b.once.Load() {
					t.Errorf("body not closed")
				}
			})
		})
	}
}

// TestCloseNoBody: http.NoBody is only closed, without a timer (not
// parallel: AllocsPerRun).
func TestCloseNoBody(t *testing.T) {
	if got := testing.AllocsPerRun(100, func() { Close(http.NoBody) }); got != 0 {
		t.Errorf("Close(http.NoBody): got %v allocations, want 0", got)
	}
}
