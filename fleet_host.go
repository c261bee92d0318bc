package cryptofuse

// TEMPORARY wiring of the fleet into the 0.2 TokenSource; replaced at the
// merge with the hardened TokenSource.

// adopt implements fleetHost.
func (ts *TokenSource) adopt(tok *Token, gen uint64) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return false
	}
	if cur := ts.cur.Load(); cur != nil && (cur.tok.AccessToken == tok.AccessToken || !fleetNewer(gen, cur.gen)) {
		return false
	}
	ts.installLocked(tok, gen, "fleet", true)
	return true
}

// fleetReason maps the 0.2 reasons to TokenReason.
func fleetReason(r string) TokenReason {
	switch r {
	case "rotate":
		return ReasonRotate
	case "first token":
		return ReasonFirst
	case "invalidated":
		return ReasonRejected
	case "expired":
		return ReasonExpired
	case "max age":
		return ReasonMaxAge
	}
	return ReasonRefresh
}
