package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// In a log, a progress line is written once a tenth of the work more is
// done, or after ten quiet intervals if anything moved at all.
func TestProgressLogLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{w: &buf, total: 100, start: t0, lastLine: t0}
	steps := []struct {
		done, failed int
		at           time.Duration
		want         string // "" for no line
	}{
		{0, 0, time.Second, ""},
		{5, 0, 2 * time.Second, ""},
		{10, 1, 3 * time.Second, "progress: 10/100 done, 1 failed, 3/s\n"},
		{19, 1, 4 * time.Second, ""},
		{20, 2, 5 * time.Second, "progress: 20/100 done, 2 failed, 4/s\n"},
		{21, 2, 14 * time.Second, ""},
		{21, 2, 15 * time.Second, "progress: 21/100 done, 2 failed, 1/s\n"},
		{21, 2, 40 * time.Second, ""}, // nothing moved
	}
	for _, s := range steps {
		buf.Reset()
		p.done, p.failed = s.done, s.failed
		p.tick(t0.Add(s.at), time.Second)
		if got := buf.String(); got != s.want {
			t.Errorf("at %s with %d done: got %q, want %q", s.at, s.done, got, s.want)
		}
	}
}

// On a terminal the line is redrawn in place, padded over a longer one, and
// a failure is printed above it.
func TestProgressTerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	t0 := time.Now()
	p := &progress{w: &buf, tty: true, total: 1000, start: t0.Add(-time.Second), done: 100}
	p.draw(t0)
	first := buf.String()
	if want := "\rprogress: 100/1000 done, 0 failed, 100/s"; first != want {
		t.Fatalf("first draw: got %q, want %q", first, want)
	}
	buf.Reset()
	p.done = 5
	p.draw(t0)
	if got, want := buf.String(), "\rprogress: 5/1000 done, 0 failed, 5/s"+strings.Repeat(" ", 4); got != want {
		t.Errorf("shorter redraw: got %q, want %q", got, want)
	}
	buf.Reset()
	width := p.shown
	p.failedWith("line 7 (fp 00000000): HTTP 503")
	out := buf.String()
	if !strings.HasPrefix(out, "\r"+strings.Repeat(" ", width)+"\rline 7 (fp 00000000): HTTP 503\n\rprogress: 6/1000 done, 1 failed") {
		t.Errorf("failure on a terminal: got %q, want the line cleared, the failure, then the line redrawn", out)
	}
}
