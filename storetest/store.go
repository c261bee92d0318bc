package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// patience bounds every wait of the suite: a call that has not returned, or
// an outcome that has not shown, after this long fails the check. It is far
// beyond any ttl or poll interval the suite uses, so that only a broken
// store reaches it.
var patience = 30 * time.Second

// TestStore runs the TokenStore checks listed in the package doc against
// the stores newStore returns, each as a subtest of t. newStore is called
// with the subtest's t, possibly several times; its stores must share one
// backing store.
func TestStore(t *testing.T, newStore func(t *testing.T) cryptofuse.TokenStore) {
	t.Helper()
	run := newKeys(t)
	checks := []struct {
		name  string
		check func(*testing.T, func(*testing.T) cryptofuse.TokenStore, string)
	}{
		{"GetAfterPut", testGetAfterPut},
		{"Overwrite", testOverwrite},
		{"Miss", testMiss},
		{"DeleteThenMiss", testDeleteThenMiss},
		{"DeleteMissing", testDeleteMissing},
		{"KeysIndependent", testKeysIndependent},
		{"Binary", testBinary},
		{"Context", testContext},
		{"Concurrent", testConcurrent},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.check(t, newStore, run.key(c.name)) })
	}
}

// keys makes the keys of one run of the suite: fresh, so that records of
// other runs in the same backing store do not matter.
type keys string

func newKeys(t *testing.T) keys {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: random key: %v", err)
	}
	return keys("storetest-" + hex.EncodeToString(b))
}

func (k keys) key(name string) string { return string(k) + "-" + name }

// ctx returns a context for one call, with the suite's bound as deadline.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(t.Context(), patience)
	t.Cleanup(cancel)
	return c
}

func mustPut(t *testing.T, s cryptofuse.TokenStore, key string, data []byte) {
	t.Helper()
	if err := s.Put(ctx(t), key, data); err != nil {
		t.Fatalf("Put(%q): got error %v, want nil", key, err)
	}
}

func mustGet(t *testing.T, s cryptofuse.TokenStore, key string, want []byte) {
	t.Helper()
	got, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): got error %v, want %q", key, err, short(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q): got %q, want %q", key, short(got), short(want))
	}
}

func mustMiss(t *testing.T, s cryptofuse.TokenStore, key string) {
	t.Helper()
	got, err := s.Get(ctx(t), key)
	if !errors.Is(err, cryptofuse.ErrStoreMiss) {
		t.Fatalf("Get(%q): got %q, %v; want an error wrapping ErrStoreMiss", key, short(got), err)
	}
}

func mustDelete(t *testing.T, s cryptofuse.TokenStore, key string) {
	t.Helper()
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatalf("Delete(%q): got error %v, want nil", key, err)
	}
}

// short keeps failure messages readable for large records.
func short(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}

func testGetAfterPut(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	s := newStore(t)
	mustPut(t, s, key, []byte("record one"))
	got, err := s.Get(ctx(t), key)
	if err != nil || string(got) != "record one" {
		t.Fatalf("Get: got %q, %v; want %q, nil", got, err, "record one")
	}
	for i := range got {
		got[i] = 'x'
	}
	mustGet(t, s, key, []byte("record one"))
	mustGet(t, newStore(t), key, []byte("record one"))
}

func testOverwrite(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	s := newStore(t)
	mustPut(t, s, key, []byte("first, and longer than the second"))
	mustPut(t, s, key, []byte("second"))
	mustGet(t, s, key, []byte("second"))
	mustGet(t, newStore(t), key, []byte("second"))
}

func testMiss(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	mustMiss(t, newStore(t), key)
}

func testDeleteThenMiss(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	s := newStore(t)
	mustPut(t, s, key, []byte("doomed"))
	mustDelete(t, s, key)
	mustMiss(t, s, key)
	mustMiss(t, newStore(t), key)
}

func testDeleteMissing(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	s := newStore(t)
	mustDelete(t, s, key)
	mustDelete(t, s, key)
	mustMiss(t, s, key)
}

func testKeysIndependent(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	s := newStore(t)
	a, ab, b := key+"-a", key+"-a-b", key+"-b"
	mustPut(t, s, a, []byte("A"))
	mustPut(t, s, ab, []byte("AB"))
	mustMiss(t, s, b)
	mustGet(t, s, a, []byte("A"))
	mustDelete(t, s, a)
	mustMiss(t, s, a)
	mustGet(t, s, ab, []byte("AB"))
	mustPut(t, s, b, []byte("B"))
	mustDelete(t, s, ab)
	mustGet(t, s, b, []byte("B"))
	mustMiss(t, s, ab)
}

func testBinary(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	every := make([]byte, 512)
	for i := range every {
		every[i] = byte(i)
	}
	big := make([]byte, 64<<10)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"EveryByte", every},
		{"Empty", []byte{}},
		{"NULs", []byte{0, 0, 0}},
		{"NotUTF8", []byte{0xff, 0xfe, '\r', '\n', 0xc3}},
		{"64KiB", big},
	}
	s := newStore(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := key + "-" + c.name
			mustPut(t, s, k, c.data)
			mustGet(t, s, k, c.data)
			mustGet(t, newStore(t), k, c.data)
			mustDelete(t, s, k)
		})
	}
}

// testConcurrent runs Put and Get from many goroutines at once: under -race
// this also finds unsynchronised state in the store.
func testConcurrent(t *testing.T, newStore func(*testing.T) cryptofuse.TokenStore, key string) {
	const goroutines, rounds = 16, 20
	s := newStore(t)
	shared := key + "-shared"
	record := func(g, r int) []byte {
		return fmt.Appendf(nil, "goroutine %d round %d %s", g, r, bytes.Repeat([]byte{'.'}, g*r))
	}
	written := make(map[string]bool)
	for g := range goroutines {
		for r := range rounds {
			written[string(record(g, r))] = true
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			own := fmt.Sprintf("%s-%d", key, g)
			for r := range rounds {
				c, cancel := context.WithTimeout(context.Background(), patience)
				err := concurrentRound(c, s, own, shared, record(g, r), written)
				cancel()
				if err != nil {
					errs <- fmt.Errorf("goroutine %d round %d: %w", g, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func concurrentRound(ctx context.Context, s cryptofuse.TokenStore, own, shared string, data []byte, written map[string]bool) error {
	if err := s.Put(ctx, own, data); err != nil {
		return fmt.Errorf("Put(own): %w", err)
	}
	if err := s.Put(ctx, shared, data); err != nil {
		return fmt.Errorf("Put(shared): %w", err)
	}
	got, err := s.Get(ctx, own)
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("Get(own): got %q, %v; want %q, nil", short(got), err, short(data))
	}
	got, err = s.Get(ctx, shared)
	if err != nil || !written[string(got)] {
		return fmt.Errorf("Get(shared): got %q, %v; want a record some goroutine wrote", short(got), err)
	}
	return nil
}
