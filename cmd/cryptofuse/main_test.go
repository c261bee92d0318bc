package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	cryptofuse "github.com/cryptofuse/cryptofuse-go"
)

// run itself, as main calls it: version reads no environment.
func TestRunVersion(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"version"}, strings.NewReader(""), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit code: got %d, want %d; stderr: %s", code, exitOK, stderr.String())
	}
	wantContains(t, "stdout", stdout.String(), "cryptofuse-go "+cryptofuse.Version+" (", runtime.Version())
	if n := strings.Count(stdout.String(), cryptofuse.Version); n != 1 {
		t.Errorf("stdout %q names the version %d times, want once", stdout.String(), n)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: got %q, want nothing", stderr.String())
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"revoke", "token", "rotate", "version", envClientID, envClientSecret, envBaseURL, "Exit codes:", "  2  usage",
			"rotate [-scope \"read write\"] [-revoke-first]", "\nExamples:\n  ", "cryptofuse rotate -scope read <",
			"A second Ctrl-C ends the process at once", "exit status 130 in shells", "without a summary"}},
		{[]string{"help"}, []string{"Exit codes:"}},
		{[]string{"help", "revoke"}, []string{"cryptofuse revoke [-hint", "-concurrency N", "Example:\n  ", "Credentials:"}},
		{[]string{"revoke", "-h"}, []string{"cryptofuse revoke [-hint", "-concurrency N", "-credentials FILE", "Example:\n  ", "Exit status:",
			"byte order mark", "bearer token (RFC 6750 §2.1)", "- . _ ~ + /", "exit status 130"}},
		{[]string{"token", "-h"}, []string{"cryptofuse token [-scope", "-json", "Example:\n  cryptofuse token"}},
		{[]string{"rotate", "-help"}, []string{"cryptofuse rotate [-scope \"read write\"] [-revoke-first] [-json]", "stdin", "-scope scopes", "pipe or redirect", "Example:\n  cryptofuse rotate <"}},
		{[]string{"version", "-h"}, []string{"cryptofuse version", "Example:\n  cryptofuse version"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			res := runCommand(invocation{}, tt.args...)
			wantCode(t, res, exitOK)
			wantContains(t, "stdout", res.stdout, tt.want...)
			if res.stderr != "" {
				t.Errorf("stderr: got %q, want nothing", res.stderr)
			}
		})
	}
}

// Usage and configuration errors exit 2, send nothing, and never echo an
// argument that could be a token.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	const tokenArg = "Zt9QpW3xLr7KmN2vB8cY4hJ6fD1sA5" // shaped like a token
	f := newFixture(t)
	f.secret(tokenArg)
	tokFile := writeFile(t, "tokens.txt", lines(f.issue(1)...), 0o600)
	t.Cleanup(func() { // after the parallel subtests
		if c := f.srv.Counts(); c.Token+c.Revoke+c.Introspect+c.Other != 0 {
			t.Errorf("requests sent: %+v, want none", c)
		}
	})
	tests := []struct {
		name string
		env  map[string]string // nil: the fixture's
		args []string
		want []string
	}{
		{"no command", nil, nil, []string{"Usage:"}},
		{"unknown command", nil, []string{"revkoe"}, []string{`unknown command "revkoe"`}},
		{"token as the command", nil, []string{tokenArg}, []string{"unknown command (an argument with fingerprint " + fingerprint(tokenArg)}},
		{"flag before the command", nil, []string{"-concurrency", "4", "revoke"}, []string{"flags go after the command"}},
		{"unknown flag", nil, []string{"revoke", "-parallel", "4"}, []string{"flag provided but not defined: -parallel", "cryptofuse revoke -h"}},
		{"token as a flag", nil, []string{"rotate", "-" + tokenArg}, []string{"flag provided but not defined: -(fp " + fingerprint(tokenArg) + ")"}},
		{"token as a flag value", nil, []string{"revoke", "-timeout=" + tokenArg}, []string{"invalid value \"(fp " + fingerprint(tokenArg) + ")\" for flag -timeout"}},
		{"bad flag value", nil, []string{"revoke", "-concurrency", "many"}, []string{`invalid value "many" for flag -concurrency`}},
		{"concurrency 0", nil, []string{"revoke", "-concurrency", "0", tokFile}, []string{"-concurrency must be from 1 to 64"}},
		{"concurrency too high", nil, []string{"revoke", "-concurrency", "65", tokFile}, []string{"-concurrency must be from 1 to 64"}},
		{"bad hint", nil, []string{"revoke", "-hint", "id_token", tokFile}, []string{"-hint must be"}},
		{"zero timeout", nil, []string{"revoke", "-timeout", "0s", tokFile}, []string{"-timeout must be positive"}},
		{"two files", nil, []string{"revoke", tokFile, tokFile}, []string{"at most one FILE"}},
		{"flag after the file", nil, []string{"revoke", tokFile, "-concurrency", "4"}, []string{"at most one FILE, after the flags"}},
		{"revoke token argument", nil, []string{"revoke", tokenArg}, []string{"cryptofuse revoke: no such file (argument fingerprint " + fingerprint(tokenArg) + "); tokens are read from a file or stdin, never from arguments\nRun 'cryptofuse revoke -h' for usage.\n"}},
		{"token argument to token", nil, []string{"token", tokenArg}, []string{"takes no arguments", "stdin", fingerprint(tokenArg)}},
		{"token argument to rotate", nil, []string{"rotate", tokenArg}, []string{"takes no arguments", "give it on stdin", fingerprint(tokenArg)}},
		{"argument to version", nil, []string{"version", "x"}, []string{"takes no arguments"}},
		{"no credentials", map[string]string{envBaseURL: "http://127.0.0.1:1"}, []string{"revoke", tokFile}, []string{"no credentials: set CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET, or pass -credentials FILE"}},
		{"no client id", map[string]string{envClientSecret: testClientSecret}, []string{"token"}, []string{"CRYPTOFUSE_CLIENT_ID is not set"}},
		{"no client secret", map[string]string{envClientID: testClientID}, []string{"rotate"}, []string{"CRYPTOFUSE_CLIENT_SECRET is not set"}},
		{"plain http base URL", f.withEnv(map[string]string{envBaseURL: "http://api.example.com"}), []string{"token"}, []string{"cryptofuse token: invalid configuration: ", "plain http"}},
		{"rotate from a terminal", f.withEnv(nil), []string{"rotate"}, []string{"stdin is a terminal", "pipe or redirect it instead, as in 'cryptofuse rotate < old-token.txt'"}},
		{"base URL with a query", f.withEnv(nil), []string{"token", "-base-url", "https://api.example.com/?x=1"}, []string{"must not carry a query"}},
		{"bad scope", f.withEnv(nil), []string{"token", "-scope", `read "write"`}, []string{"invalid configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := tt.env
			if env == nil {
				env = f.env
			}
			inv := invocation{env: env, stdin: tokenArg + "\n", tty: tt.name == "rotate from a terminal"}
			res := f.runWith(t, inv, tt.args...)
			wantCode(t, res, exitUsage)
			wantContains(t, "stderr", res.stderr, tt.want...)
			if strings.Contains(res.stderr, ": cryptofuse: ") {
				t.Errorf("stderr repeats the \"cryptofuse: \" prefix:\n%s", res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.stdout)
			}
		})
	}
}
