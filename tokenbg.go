package cryptofuse

import (
	"context"
	"sync"
)

// bgGroup counts a TokenSource's background goroutines, and how many of
// them are inside a callback of the user's (the logger, a hook), so that
// Close can wait for the goroutines without waiting for itself: a callback
// that calls Close runs on one of them.
type bgGroup struct {
	mu      sync.Mutex
	running int           // background goroutines
	inCB    int           // callbacks running under a background context
	change  chan struct{} // closed at the next change, if anyone waits
}

// Add counts n more background goroutines.
func (g *bgGroup) Add(n int) { g.update(n, 0) }

// Done counts one background goroutine as ended.
func (g *bgGroup) Done() { g.update(-1, 0) }

// update changes the counts and wakes the waiters.
func (g *bgGroup) update(running, inCB int) {
	g.mu.Lock()
	g.running += running
	g.inCB += inCB
	if g.change != nil {
		close(g.change)
		g.change = nil
	}
	g.mu.Unlock()
}

// wait waits until every background goroutine has ended, or those left are
// all inside callbacks (one of which may be the caller's own), or ctx is
// done. It reports whether every goroutine has ended.
func (g *bgGroup) wait(ctx context.Context) bool {
	for {
		g.mu.Lock()
		if g.running <= g.inCB {
			all := g.running == 0
			g.mu.Unlock()
			return all
		}
		if g.change == nil {
			g.change = make(chan struct{})
		}
		ch := g.change
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// inCallback runs f, a callback of the user's, counted as such when ctx is
// a background context of a TokenSource.
func inCallback(ctx context.Context, f func()) {
	g, _ := ctx.Value(bgKey{}).(*bgGroup)
	if g == nil {
		f()
		return
	}
	g.update(0, 1)
	defer g.update(0, -1)
	f()
}
