//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package main

import "os"

// isTerminalFile reports whether f is a character device, such as a
// terminal. Package syscall has no terminal ioctl on these systems, so a
// null device counts as a terminal too.
func isTerminalFile(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
