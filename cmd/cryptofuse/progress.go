package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Default progress intervals. On a terminal the line is redrawn in place
// often; in a log (stderr is a file or a pipe) a line is written at most
// once per interval, and only once a tenth of the work more is done or ten
// intervals have passed, so a log of a long run stays short.
const (
	terminalEvery = 200 * time.Millisecond
	logEvery      = time.Second
)

// progress owns stderr while a bulk revocation runs: it counts outcomes,
// prints failure lines, and keeps a progress line ("done/total, failed,
// rate") up to date. It is safe for concurrent use by the workers.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool // redraw one line in place with \r
	total  int
	start  time.Time
	done   int // revoked or failed
	failed int
	shown  int // width of the progress line on screen (tty), 0 if none

	lastDone int       // done when the last log line was written
	lastLine time.Time // when it was written

	stop chan struct{}
	wg   sync.WaitGroup
}

// newProgress starts a progress reporter for total tokens on w. every is the
// redraw interval; 0 takes the default for the kind of w.
func newProgress(w io.Writer, tty bool, total int, every time.Duration) *progress {
	if every <= 0 {
		every = logEvery
		if tty {
			every = terminalEvery
		}
	}
	p := &progress{w: w, tty: tty, total: total, start: time.Now(), stop: make(chan struct{})}
	p.lastLine = p.start
	p.wg.Add(1)
	go p.loop(every)
	return p
}

func (p *progress) loop(every time.Duration) {
	defer p.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			p.tick(now, every)
			p.mu.Unlock()
		}
	}
}

// tick redraws the line on a terminal, or writes a log line when enough has
// changed. p.mu is held.
func (p *progress) tick(now time.Time, every time.Duration) {
	if p.tty {
		p.draw(now)
		return
	}
	if p.done == p.lastDone {
		return
	}
	step := max(p.total/10, 1)
	if p.done-p.lastDone >= step || now.Sub(p.lastLine) >= 10*every {
		p.logLine(now)
	}
}

// line is the progress line's text at now.
func (p *progress) line(now time.Time) string {
	rate := 0.0
	if secs := now.Sub(p.start).Seconds(); secs > 0 {
		rate = float64(p.done) / secs
	}
	return fmt.Sprintf("progress: %d/%d done, %d failed, %.0f/s", p.done, p.total, p.failed, rate)
}

// draw redraws the line in place. p.mu is held.
func (p *progress) draw(now time.Time) {
	s := p.line(now)
	pad := ""
	if n := p.shown - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", s, pad)
	p.shown = len(s)
}

// clear removes the line from a terminal. p.mu is held.
func (p *progress) clear() {
	if p.shown > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shown))
		p.shown = 0
	}
}

// logLine writes the line as a line of its own. p.mu is held.
func (p *progress) logLine(now time.Time) {
	fmt.Fprintln(p.w, p.line(now))
	p.lastDone, p.lastLine = p.done, now
}

// succeeded counts a revoked token.
func (p *progress) succeeded() {
	p.mu.Lock()
	p.done++
	p.mu.Unlock()
}

// failedWith counts a failed token and prints msg on a line of its own.
func (p *progress) failedWith(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.failed++
	p.note(msg)
}

// print prints msg on a line of its own, above the progress line.
func (p *progress) print(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.note(msg)
}

// note prints msg. p.mu is held.
func (p *progress) note(msg string) {
	if p.tty {
		had := p.shown > 0
		p.clear()
		fmt.Fprintln(p.w, msg)
		if had {
			p.draw(time.Now())
		}
		return
	}
	fmt.Fprintln(p.w, msg)
}

// finish stops the reporter and leaves the final progress line on stderr.
func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.tty {
		p.draw(now)
		fmt.Fprintln(p.w)
		p.shown = 0
		return
	}
	p.logLine(now)
}
