package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
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

// cacheHooks reports on w what goes wrong with the cache, from the
// TokenSource's store events (which never carry a token): a failed store
// call, or a kept record that cannot be used. A call that a cancelled ctx
// cut short is not reported: Close cancels the background save and then
// saves itself, and an interrupt cancels the whole run.
func cacheHooks(w io.Writer, name string) cryptofuse.Hooks {
	var mu sync.Mutex // events arrive from the TokenSource's goroutines
	return cryptofuse.Hooks{Store: func(ev cryptofuse.StoreEvent) {
		var what string
		switch {
		case ev.Outcome == cryptofuse.StoreUnusable:
			what = "the kept token is not usable (a new one is issued)"
		case ev.Outcome != cryptofuse.StoreError, errors.Is(ev.Err, context.Canceled):
			return
		default:
			what = ev.Op + " failed"
		}
		mu.Lock()
		defer mu.Unlock()
		if ev.Err != nil {
			fmt.Fprintf(w, "%s: -cache: %s: %v\n", name, what, ev.Err)
		} else {
			fmt.Fprintf(w, "%s: -cache: %s\n", name, what)
		}
	}}
}
