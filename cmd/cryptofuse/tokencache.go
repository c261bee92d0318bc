package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// cacheRefreshBefore is the TokenSource's refresh window for token -cache:
// tiny, so that a kept token is handed over as it is, and cachedToken
// decides by -min-valid whether to replace it.
const cacheRefreshBefore = time.Second

// cachedToken returns a token through a TokenSource over the DirStore dir:
// the one kept there while it stays valid for at least minValid, else a new
// one, which the TokenSource keeps there (Close waits for that). With dir
// "", it issues a new token and keeps nothing.
func (c *command) cachedToken(ctx context.Context, client *cryptofuse.Client, dir string, minValid time.Duration) (*cryptofuse.Token, error) {
	if dir == "" {
		return client.Token(ctx)
	}
	ts, err := client.TokenSource(cryptofuse.TokenPolicy{Store: cryptofuse.DirStore(dir), RefreshBefore: cacheRefreshBefore})
	if err != nil {
		return nil, err
	}
	defer ts.Close(ctx)
	start := time.Now()
	tok, err := ts.Token(ctx)
	if err != nil {
		return nil, err
	}
	// A kept token (issued before this run) that expires too soon is
	// replaced; a token just issued is printed whatever its lifetime. (A
	// kept token without an expiry is never used: there is no telling its
	// age.)
	issued := tok.Expiry.Add(-time.Duration(tok.ExpiresIn) * time.Second)
	if !tok.Expiry.IsZero() && time.Until(tok.Expiry) < minValid && issued.Before(start) {
		return ts.Rotate(ctx)
	}
	return tok, nil
}

// checkCacheDir returns dir, or "" (no cache) when dir is a file: the JSON
// token file of 0.2, which a DirStore cannot use. It says so on stderr.
func (c *command) checkCacheDir(fs *flag.FlagSet, dir string) string {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		fmt.Fprintf(c.stderr, "%s: -cache: %s is a file, not a directory (a token file of cryptofuse 0.2?): not used; delete it or name a directory (a new token is issued and not kept)\n", fs.Name(), dir)
		return ""
	}
	return dir
}

// cacheLogger reports on w what goes wrong with the cache: the TokenSource
// logs a store failure as a warning, and never a secret.
func cacheLogger(w io.Writer, name string) *slog.Logger {
	return slog.New(&cacheHandler{w: w, name: name})
}

// cacheHandler prints warnings and errors as one line each: "NAME: -cache:
// message (key=value ...)".
type cacheHandler struct {
	w     io.Writer
	name  string
	attrs []slog.Attr
}

func (h *cacheHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *cacheHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: -cache: %s", h.name, strings.TrimPrefix(r.Message, "cryptofuse: "))
	sep := " ("
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, "%s%s=%v", sep, a.Key, a.Value.Resolve())
		sep = ", "
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if sep == ", " {
		b.WriteString(")")
	}
	b.WriteString("\n")
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *cacheHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &cacheHandler{w: h.w, name: h.name, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

func (h *cacheHandler) WithGroup(string) slog.Handler { return h }
