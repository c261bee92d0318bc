package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCredentialsFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not checked on Windows")
	}
	tests := []struct {
		name        string
		content     string // @URL@ is replaced by the server's URL
		mode        os.FileMode
		wantWarning bool
	}{
		{"0600", "CRYPTOFUSE_CLIENT_ID=" + testClientID + "\nCRYPTOFUSE_CLIENT_SECRET=" + testClientSecret + "\n", 0o600, false},
		{"0400", "CRYPTOFUSE_CLIENT_ID=" + testClientID + "\nCRYPTOFUSE_CLIENT_SECRET=" + testClientSecret + "\n", 0o400, false},
		{"0644 warns", "CRYPTOFUSE_CLIENT_ID=" + testClientID + "\nCRYPTOFUSE_CLIENT_SECRET=" + testClientSecret + "\n", 0o644, true},
		{"0640 warns", "CRYPTOFUSE_CLIENT_ID=" + testClientID + "\nCRYPTOFUSE_CLIENT_SECRET=" + testClientSecret + "\n", 0o640, true},
		{"env-file syntax", "# cryptofuse\n\nexport CRYPTOFUSE_CLIENT_ID = '" + testClientID + "'\r\n  CRYPTOFUSE_CLIENT_SECRET=\"" + testClientSecret + "\"\n", 0o600, false},
		{"base URL in the file", "CRYPTOFUSE_CLIENT_ID=" + testClientID + "\nCRYPTOFUSE_CLIENT_SECRET=" + testClientSecret + "\nCRYPTOFUSE_BASE_URL=@URL@\n", 0o600, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			path := writeFile(t, "creds.env", strings.ReplaceAll(tt.content, "@URL@", f.srv.URL), tt.mode)
			// The environment's credentials are wrong: the file's must win.
			// Without a base URL in the file the environment's is used.
			env := f.withEnv(map[string]string{envClientID: "env-id", envClientSecret: "env-secret"})
			f.secret("env-secret")
			if strings.Contains(tt.content, "@URL@") {
				env = map[string]string{envBaseURL: "http://127.0.0.1:1"}
			}
			res := f.runWith(t, invocation{env: env}, "token", "-credentials", path)
			wantCode(t, res, exitOK)
			printedToken(t, res)
			gotWarning := strings.Contains(res.stderr, "warning: credentials file "+path+" is readable by group or others")
			if gotWarning != tt.wantWarning {
				t.Errorf("warning: got %v, want %v; stderr: %q", gotWarning, tt.wantWarning, res.stderr)
			}
			if tt.wantWarning {
				wantContains(t, "stderr", res.stderr, "chmod 600")
			}
		})
	}
}

func TestCredentialsFileErrors(t *testing.T) {
	t.Parallel()
	const secretLine = "CRYPTOFUSE_CLIENT_SECRET=" + testClientSecret + "\n"
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"no id", secretLine, "no CRYPTOFUSE_CLIENT_ID line with a value"},
		{"empty secret", "CRYPTOFUSE_CLIENT_ID=x\nCRYPTOFUSE_CLIENT_SECRET=\n", "no CRYPTOFUSE_CLIENT_SECRET line with a value"},
		{"not KEY=VALUE", "CRYPTOFUSE_CLIENT_ID=x\n" + testClientSecret + "\n", "line 2 is not KEY=VALUE"},
		{"unknown key", "CRYPTOFUSE_CLIENT_ID=x\n" + "CLIENT_SECRET=" + testClientSecret + "\n", "line 2: unknown key"},
		{"duplicate key", "CRYPTOFUSE_CLIENT_ID=x\n" + secretLine + secretLine, "line 3: CRYPTOFUSE_CLIENT_SECRET is already set on line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			path := writeFile(t, "creds.env", tt.content, 0o600)
			res := f.run(t, "", "token", "-credentials", path)
			wantCode(t, res, exitUsage)
			wantContains(t, "stderr", res.stderr, tt.want)
		})
	}

	// A -credentials path is never a token: it is named.
	t.Run("no such file", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		path := filepath.Join(t.TempDir(), "missing.env")
		res := f.run(t, "", "token", "-credentials", path)
		wantCode(t, res, exitUsage)
		wantContains(t, "stderr", res.stderr, "cryptofuse token: -credentials: no such file: "+path+"\n")
		if strings.Contains(res.stderr, "fingerprint") {
			t.Errorf("stderr names the path by fingerprint:\n%s", res.stderr)
		}
	})
}
