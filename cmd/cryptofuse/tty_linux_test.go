//go:build linux

package main

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// A pseudo-terminal is a terminal, both its sides.
func TestIsTerminalPTY(t *testing.T) {
	t.Parallel()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer ptmx.Close()
	ioctl := func(req uintptr, arg unsafe.Pointer) syscall.Errno {
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), req, uintptr(arg))
		return errno
	}
	var unlock int32
	if errno := ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); errno != 0 {
		t.Skipf("unlockpt: %v", errno)
	}
	var n uint32
	if errno := ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n)); errno != 0 {
		t.Skipf("ptsname: %v", errno)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	defer pts.Close()
	for name, f := range map[string]*os.File{"master": ptmx, "slave": pts} {
		if !isTerminal(f) {
			t.Errorf("isTerminal(%s side): got false, want true", name)
		}
	}
}
