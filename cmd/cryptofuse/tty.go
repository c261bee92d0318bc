package main

import "os"

// isTerminal reports whether v is an *os.File open on a terminal (see
// isTerminalFile, one per kind of system).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && f != nil && isTerminalFile(f)
}
