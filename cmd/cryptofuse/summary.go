package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// summary is the outcome of a bulk revocation.
type summary struct {
	total             int // distinct tokens
	revoked           int
	nFailed           int
	failed            map[string]int          // by reason
	classes           map[string]failureClass // of each reason in failed
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
	s.printAdvice(w)
}

// printAdvice says which failures a re-run with the same input can fix: the
// transient ones and the tokens not attempted at once, the verdicts once the
// configuration is fixed, and the others not at all.
func (s summary) printAdvice(w io.Writer) {
	if s.revoked == s.total {
		return
	}
	var byClass [3][]string
	for r, class := range s.classes {
		byClass[class] = append(byClass[class], r)
	}
	for i := range byClass {
		slices.Sort(byClass[i])
	}
	fix := byClass[classTransient]
	if s.notAttempted > 0 {
		fix = append(fix, "the tokens not attempted")
	}
	if len(fix) > 0 {
		fmt.Fprintf(w, "A re-run with the same input can fix: %s (revoking a token again is harmless).\n", strings.Join(fix, ", "))
	}
	if v := byClass[classVerdict]; len(v) > 0 {
		fmt.Fprintf(w, "A re-run fixes %s only after the cause is fixed: the credentials, the base URL (-base-url or %s) or the request, the same for every token.\n", strings.Join(v, ", "), envBaseURL)
	}
	if v := byClass[classToken]; len(v) > 0 {
		fmt.Fprintf(w, "A re-run will not fix %s: the server gives those tokens the same answer each time.\n", strings.Join(v, ", "))
	}
}
