package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cryptofuse/cryptofuse-go/internal/names"
)

// newFlagSet returns a silent flag set for a subcommand: parse prints its
// errors and its usage, so that -h goes to stdout and errors to stderr.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("cryptofuse "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args into fs. For -h it prints help (its description, the
// flags, then its "Credentials:" and "Example:" sections) to stdout and returns false
// with exit code 0; for a bad flag it prints the error to stderr and returns
// false with exit code 2.
func (c *command) parse(fs *flag.FlagSet, args []string, help string) (ok bool, code int) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return true, exitOK
	case errors.Is(err, flag.ErrHelp):
		cut := len(help)
		for _, section := range []string{"\nCredentials:", "\nExample:"} {
			if i := strings.Index(help, section); i >= 0 && i < cut {
				cut = i
			}
		}
		head, tail := help[:cut], help[cut:]
		fmt.Fprint(c.stdout, head)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(c.stdout, "\nFlags:\n")
			fs.SetOutput(c.stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
		fmt.Fprint(c.stdout, tail)
		return false, exitOK
	default:
		// flag's messages quote the flag or the bad value, which may be a
		// token typed in the wrong place.
		return false, c.usageError(fs, "%s", redactArgs(err.Error(), args))
	}
}

// redactArgs replaces in msg every long piece of args (an argument, the flag
// name in it, or the value after its "=") by its fingerprint, since it may be
// a token. Short pieces, such as a flag name or "0", stay readable.
func redactArgs(msg string, args []string) string {
	for _, arg := range args {
		name, value, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		for _, piece := range []string{value, name, arg} {
			if len(piece) > 12 && strings.Contains(msg, piece) {
				msg = strings.ReplaceAll(msg, piece, "(fp "+fingerprint(piece)+")")
			}
		}
	}
	return msg
}

// usageError prints a usage error for the subcommand of fs and returns
// exitUsage.
func (c *command) usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "%s: %s\nRun '%s -h' for usage.\n", fs.Name(), fmt.Sprintf(format, args...), fs.Name())
	return exitUsage
}

// fingerprint names a token without showing it (see names.Fingerprint).
var fingerprint = names.Fingerprint

// describeArg names a command-line argument in a message. An argument may be
// a token pasted by mistake, so only a short lower-case word (a mistyped
// command) is shown as it is; anything else is shown by its fingerprint.
func describeArg(arg string) string {
	if len(arg) <= 12 && strings.Trim(arg, "abcdefghijklmnopqrstuvwxyz-") == "" {
		return fmt.Sprintf("%q", arg)
	}
	return fmt.Sprintf("(an argument with fingerprint %s, not shown in case it is a token)", fingerprint(arg))
}

// refuseArgs is the error for a subcommand that reads its token from stdin
// and was given arguments: a token on the command line is visible to every
// user through ps, and stays in the shell's history.
func (c *command) refuseArgs(fs *flag.FlagSet) int {
	return c.usageError(fs, "takes no arguments: a token on the command line is visible to every user through ps; give it on stdin instead (argument fingerprint %s)", fingerprint(fs.Arg(0)))
}
