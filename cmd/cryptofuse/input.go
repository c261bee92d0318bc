package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLine caps one input line. A token is far shorter; a longer line means
// the input is not a token list.
const maxLine = 64 << 10

// maxBadLines is how many malformed lines an input error lists.
const maxBadLines = 10

// entry is one distinct token of the input and the line it first appears on.
type entry struct {
	token string
	line  int
}

// tokenList is a parsed input: distinct tokens in the order of their first
// line.
type tokenList struct {
	entries    []entry
	duplicates int // lines skipped because their token came earlier
}

// readTokens reads the whole input before anything is sent: one token per
// line, spaces around it trimmed, blank lines and lines starting with #
// skipped, a token seen before skipped. A line with whitespace or a control
// character inside is an error for the whole input: the server answers 200
// even for a string that is not a token (RFC 7009 §2.2), so sending such a
// line would report a leaked token as revoked while it stays valid. The
// error lists the bad lines by number, never their content.
func readTokens(r io.Reader) (tokenList, error) {
	var (
		list  tokenList
		seen  = map[string]bool{}
		bad   []string
		nBad  int
		sc    = bufio.NewScanner(r)
		lineN int
	)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		lineN++
		tok := strings.TrimSpace(sc.Text())
		if tok == "" || strings.HasPrefix(tok, "#") {
			continue
		}
		if strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			nBad++
			if len(bad) < maxBadLines {
				bad = append(bad, fmt.Sprint(lineN))
			}
			continue
		}
		if seen[tok] {
			list.duplicates++
			continue
		}
		seen[tok] = true
		list.entries = append(list.entries, entry{token: tok, line: lineN})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return tokenList{}, fmt.Errorf("line %d is longer than %d bytes: the input is not one token per line", lineN+1, maxLine)
		}
		return tokenList{}, err
	}
	if nBad > 0 {
		more := ""
		if nBad > len(bad) {
			more = fmt.Sprintf(" and %d more", nBad-len(bad))
		}
		return tokenList{}, fmt.Errorf("%d lines hold something other than one token (line %s%s): whitespace or a control character inside; nothing was sent", nBad, strings.Join(bad, ", "), more)
	}
	return list, nil
}

// readFirstLine returns the first non-blank line of r, trimmed, for rotate.
func readFirstLine(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		tok := strings.TrimSpace(sc.Text())
		if tok == "" {
			continue
		}
		if strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return "", errors.New("the first line of stdin holds something other than one token (whitespace or a control character inside)")
		}
		return tok, nil
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return "", fmt.Errorf("stdin: a line is longer than %d bytes", maxLine)
		}
		return "", fmt.Errorf("reading stdin: %w", err)
	}
	return "", errors.New("no token on stdin")
}
