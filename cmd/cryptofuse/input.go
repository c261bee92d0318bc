package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/cryptofuse/cryptofuse-go/internal/tokensyntax"
)

// maxLine caps one input line. A token is far shorter; a longer line means
// the input is not a token list.
const maxLine = 64 << 10

// maxBadLines is how many malformed lines an input error lists.
const maxBadLines = 10

// bom is the UTF-8 byte order mark some editors put at the start of a file.
const bom = "\uFEFF"

// hasAuthScheme reports whether s starts with an HTTP authentication scheme
// and a space, as a line copied from an Authorization header does.
func hasAuthScheme(s string) bool {
	scheme, rest, ok := strings.Cut(s, " ")
	if !ok || strings.TrimSpace(rest) == "" {
		return false
	}
	_, known := tokensyntax.Scheme(scheme)
	return known || strings.EqualFold(scheme, tokensyntax.HeaderName)
}

// dropScheme is the advice for lines that start with an authentication
// scheme.
const dropScheme = `; drop the "Bearer " prefix (or the header name and scheme) and keep the token alone, as in: sed 's/^[Bb]earer //' FILE`

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
// line, a leading UTF-8 byte order mark dropped, white space around a token
// (strings.TrimSpace: Unicode's) trimmed, blank lines and lines starting with # skipped, a token seen
// before skipped. A line that is not a bearer token (see isBearerToken) is
// an error for the whole input: the server answers 200 even for a string
// that is not a token (RFC 7009 §2.2), so sending such a line would report a
// leaked token as revoked while it stays valid. The error lists the bad
// lines by number, never their content.
func readTokens(r io.Reader) (tokenList, error) {
	var (
		list    tokenList
		seen    = map[string]bool{}
		bad     []string
		nBad    int
		schemes int // bad lines that start with an authentication scheme
		sc      = bufio.NewScanner(r)
		lineN   int
	)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		lineN++
		text := sc.Text()
		if lineN == 1 {
			text = strings.TrimPrefix(text, bom)
		}
		tok := strings.TrimSpace(text)
		if tok == "" || strings.HasPrefix(tok, "#") {
			continue
		}
		if !tokensyntax.IsB64Token(tok) {
			nBad++
			if hasAuthScheme(tok) {
				schemes++
			}
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
		what := "1 line holds something other than one token (line "
		if nBad > 1 {
			what = fmt.Sprintf("%d lines hold something other than one token (lines ", nBad)
		}
		advice := ""
		if schemes > 0 {
			advice = dropScheme
		}
		return tokenList{}, fmt.Errorf("%s%s%s): %s%s; nothing was sent", what, strings.Join(bad, ", "), more, tokensyntax.Description, advice)
	}
	return list, nil
}

// readFirstLine returns the first non-blank line of r, trimmed, for rotate:
// a leading UTF-8 byte order mark is dropped, and the line must be a bearer
// token (see isBearerToken).
func readFirstLine(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for first := true; sc.Scan(); first = false {
		text := sc.Text()
		if first {
			text = strings.TrimPrefix(text, bom)
		}
		tok := strings.TrimSpace(text)
		if tok == "" {
			continue
		}
		if !tokensyntax.IsB64Token(tok) {
			advice := ""
			if hasAuthScheme(tok) {
				advice = strings.Replace(dropScheme, "FILE", "old-token.txt", 1)
			}
			return "", errors.New("the first line of stdin holds something other than one token: " + tokensyntax.Description + advice)
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

// openInput opens the input named by the argument: stdin for "" or "-",
// else a file. A file that does not exist is named in the error only when
// the name cannot be a token (looksLikeFileName), since the argument may be
// a token given in the wrong place; the error then matches errNoSuchFile.
func (c *command) openInput(arg string) (r io.Reader, name string, closeFn func(), err error) {
	if arg == "" || arg == "-" {
		return c.stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(arg)
	if errors.Is(err, fs.ErrNotExist) {
		if looksLikeFileName(arg) {
			return nil, "", nil, fmt.Errorf("%w: %q", errNoSuchFile, arg)
		}
		return nil, "", nil, fmt.Errorf("%w (argument fingerprint %s); tokens are read from a file or stdin, never from arguments", errNoSuchFile, fingerprint(arg))
	}
	if err != nil {
		return nil, "", nil, err
	}
	return f, arg, func() { f.Close() }, nil
}

// looksLikeFileName reports whether a FILE argument cannot be a token, and
// may be named in an error: it is not a bearer token's syntax (a space, a
// quote, a character outside b64token), or it ends in a file extension
// (.txt, .log, .csv, .json, .env, .tokens, .list), which no token of
// django-oauth-toolkit (alphanumeric) has.
func looksLikeFileName(arg string) bool {
	if !tokensyntax.IsB64Token(arg) {
		return true
	}
	for _, ext := range []string{".txt", ".log", ".csv", ".json", ".env", ".tokens", ".list"} {
		if strings.HasSuffix(strings.ToLower(arg), ext) {
			return true
		}
	}
	return false
}

// errNoSuchFile is openInput's error for a FILE that does not exist.
var errNoSuchFile = errors.New("no such file")
