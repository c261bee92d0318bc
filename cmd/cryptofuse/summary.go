package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"
)

// summary is the outcome of a bulk revocation.
type summary struct {
	total             int // distinct tokens
	revoked           int
	nFailed           int
	failed            map[string]int // by reason
	notAttempted      int
	firstNotAttempted int    // line of the first token not attempted
	stopped           string // why the run stopped early, if it did
	duplicates        int
	elapsed           time.Duration
}

// print writes the summary, one "key: value" per line, the failures by
// reason indented under "failed".
func (s summary) print(w io.Writer) {
	fmt.Fprintf(w, "revoked:        %d of %d\n", s.revoked, s.total)
	fmt.Fprintf(w, "failed:         %d\n", s.nFailed)
	type count struct {
		reason string
		n      int
	}
	var counts []count
	for r, n := range s.failed {
		counts = append(counts, count{r, n})
	}
	slices.SortFunc(counts, func(a, b count) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.reason, b.reason))
	})
	for _, c := range counts {
		fmt.Fprintf(w, "  %s: %d\n", c.reason, c.n)
	}
	fmt.Fprintf(w, "not attempted:  %d", s.notAttempted)
	if s.notAttempted > 0 {
		fmt.Fprintf(w, " (the first is on line %d)", s.firstNotAttempted)
	}
	fmt.Fprintln(w)
	if s.stopped != "" {
		fmt.Fprintf(w, "stopped:        %s\n", s.stopped)
	}
	if s.duplicates > 0 {
		fmt.Fprintf(w, "duplicates:     %d skipped (each token is revoked once)\n", s.duplicates)
	}
	fmt.Fprintf(w, "elapsed:        %s\n", s.elapsed.Round(time.Millisecond))
	if s.revoked < s.total {
		fmt.Fprintln(w, "Revoking a token again is harmless: re-run with the same input to retry (after fixing the cause).")
	}
}
