//go:build race

package cryptofuse_test

// raceEnabled reports whether the race detector is on. Under it sync.Pool
// drops items at random, so net/http allocates a varying amount per call and
// testing.AllocsPerRun cannot be asserted.
const raceEnabled = true
