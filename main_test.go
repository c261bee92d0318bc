package cryptofuse_test

import (
	"os"
	"testing"
)

// TestMain runs the tests, or, in a child process that startServerProcess
// (bench_test.go) started, serves the benchmarks' and the connection test's
// loopback server instead.
func TestMain(m *testing.M) {
	if os.Getenv(serverProcessEnv) == "1" {
		os.Exit(serveProcess())
	}
	os.Exit(m.Run())
}
