package storetest_test

import (
	"context"
	"sync"
	"time"

	"github.com/cryptofuse/cryptofuse-go"
)

// memStore is an in-memory SharedStore: the suite's reference, to show the
// checks pass on a store that keeps the contract. Its flaws, when set,
// break one promise each, to show the checks catch it.
type memStore struct {
	mu       sync.Mutex
	records  map[string][]byte
	locks    map[string]memLock
	members  map[string]map[string]time.Time
	watchers map[string][]chan struct{}
	flaws    map[string]bool
}

type memLock struct {
	owner   string
	expires time.Time
}

func newMemStore(flaws ...string) *memStore {
	m := &memStore{
		records:  make(map[string][]byte),
		locks:    make(map[string]memLock),
		members:  make(map[string]map[string]time.Time),
		watchers: make(map[string][]chan struct{}),
		flaws:    make(map[string]bool),
	}
	for _, f := range flaws {
		m.flaws[f] = true
	}
	return m
}

func (m *memStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil && !m.flaws["ignore-ctx"] {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if !ok {
		if m.flaws["miss-is-nil"] {
			return nil, nil
		}
		return nil, cryptofuse.ErrStoreMiss
	}
	if m.flaws["get-aliases"] {
		return r, nil
	}
	return append([]byte{}, r...), nil
}

func (m *memStore) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[key] = append([]byte{}, data...)
	m.notify(key)
	return nil
}

func (m *memStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, key)
	if !m.flaws["delete-silent"] {
		m.notify(key)
	}
	return nil
}

// notify is called with m.mu held.
func (m *memStore) notify(key string) {
	for _, ch := range m.watchers[key] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (m *memStore) Lock(ctx context.Context, key, owner string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	l, held := m.locks[key]
	if held && l.owner != owner && (now.Before(l.expires) || m.flaws["lock-never-expires"]) {
		return cryptofuse.ErrLocked
	}
	if held && l.owner == owner && m.flaws["lock-no-extend"] {
		return nil
	}
	m.locks[key] = memLock{owner: owner, expires: now.Add(ttl)}
	return nil
}

func (m *memStore) Unlock(ctx context.Context, key, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, held := m.locks[key]; held && (l.owner == owner || m.flaws["unlock-any"]) {
		delete(m.locks, key)
	}
	return nil
}

func (m *memStore) Watch(ctx context.Context, key string) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan struct{}, 1)
	m.mu.Lock()
	m.watchers[key] = append(m.watchers[key], ch)
	m.mu.Unlock()
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				if m.flaws["watch-never-closes"] {
					select {}
				}
				return
			case <-ch:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, nil
}

func (m *memStore) Join(ctx context.Context, key, member string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.members[key] == nil {
		m.members[key] = make(map[string]time.Time)
	}
	m.members[key][member] = time.Now().Add(ttl)
	return nil
}

func (m *memStore) Leave(ctx context.Context, key, member string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if m.flaws["leave-not-atomic"] {
		n := m.count(key, member)
		time.Sleep(10 * time.Millisecond) // let the other leaver count too
		m.mu.Lock()
		delete(m.members[key], member)
		m.mu.Unlock()
		return n, nil
	}
	m.mu.Lock()
	delete(m.members[key], member)
	m.mu.Unlock()
	return m.count(key, member), nil
}

func (m *memStore) count(key, except string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for name, exp := range m.members[key] {
		if name != except && (time.Now().Before(exp) || m.flaws["members-never-expire"]) {
			n++
		}
	}
	return n
}

var _ cryptofuse.SharedStore = (*memStore)(nil)
