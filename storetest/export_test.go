package storetest

import "time"

// SetPatience sets the suite's bound on every wait, for the children of
// TestFlawedStore, whose flaws make the suite wait that long.
func SetPatience(d time.Duration) { patience = d }
