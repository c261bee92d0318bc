package redisstore_test

import (
	"net"
	"sync"
	"testing"
)

// proxyMode is what a proxy does with the bytes it carries.
type proxyMode int

const (
	proxyUp      proxyMode = iota // forwards both ways
	proxyStalled                  // holds every byte until the mode changes: Redis hangs
	proxyDown                     // closes every connection, and each new one: Redis is gone
)

// proxy is a TCP proxy to Redis that a test controls, to make Redis hang,
// vanish, or drop connections silently without touching the Redis that
// other tests share.
type proxy struct {
	ln      net.Listener
	backend string

	mu     sync.Mutex
	cond   *sync.Cond
	mode   proxyMode
	conns  map[*proxyConn]bool
	closed bool
}

// proxyConn is one client connection and its connection to Redis.
type proxyConn struct {
	client, server net.Conn
	orphan         bool // forwards nothing, for ever, but stays open
}

// newProxy starts a proxy on loopback to backend, closed when t ends.
func newProxy(t *testing.T, backend string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, conns: make(map[*proxyConn]bool)}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.mode == proxyDown || p.closed
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s}
		p.mu.Lock()
		p.conns[pc] = true
		p.mu.Unlock()
		go p.pipe(pc, c, s)
		go p.pipe(pc, s, c)
	}
}

// pipe copies src to dst through the gate until either side fails.
func (p *proxy) pipe(pc *proxyConn, src, dst net.Conn) {
	defer p.drop(pc)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && p.gate(pc) {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits while the proxy is stalled and reports whether to forward.
func (p *proxy) gate(pc *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == proxyStalled && !p.closed && !pc.orphan {
		p.cond.Wait()
	}
	return p.mode == proxyUp && !p.closed && !pc.orphan
}

func (p *proxy) drop(pc *proxyConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc.orphan && !p.closed {
		return // keep it open: a connection that died in silence
	}
	pc.client.Close()
	pc.server.Close()
	delete(p.conns, pc)
}

// set changes the mode; proxyDown closes every connection.
func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	p.mode = m
	var gone []*proxyConn
	if m == proxyDown {
		for pc := range p.conns {
			gone = append(gone, pc)
		}
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, pc := range gone {
		p.drop(pc)
	}
}

// orphanAll makes every open connection a silent one: it stays open and
// carries nothing, for ever. New connections work.
func (p *proxy) orphanAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pc := range p.conns {
		pc.orphan = true
	}
	p.cond.Broadcast()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	var all []*proxyConn
	for pc := range p.conns {
		all = append(all, pc)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.ln.Close()
	for _, pc := range all {
		p.drop(pc)
	}
}
