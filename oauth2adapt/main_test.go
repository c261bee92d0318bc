package oauth2adapt_test

import (
	"os"
	"testing"

	"github.com/cryptofuse/cryptofuse-go/internal/benchserver"
)

// TestMain runs the tests, or, in a child process that benchserver.Start
// started for the benchmarks, serves their loopback server instead.
func TestMain(m *testing.M) {
	if benchserver.Child() {
		os.Exit(benchserver.Serve())
	}
	os.Exit(m.Run())
}
