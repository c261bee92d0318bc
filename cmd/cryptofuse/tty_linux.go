//go:build linux

package main

import "syscall"

// ioctlGetTermios is the ioctl that reads a terminal's attributes: it
// succeeds on a terminal only.
const ioctlGetTermios = syscall.TCGETS
