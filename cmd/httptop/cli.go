package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/httptop/httptop/internal/termtext"
)

// Main is the httptop command: it parses the command line and runs one
// subcommand, writing to the writers it was given. Only main calls
// os.Exit.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// NewMain returns a Main that reads and writes the given streams.
func NewMain(stdin io.Reader, stdout, stderr io.Writer) *Main {
	return &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr}
}

// command is one subcommand of httptop.
type command struct {
	name    string
	args    string // synopsis of the arguments, for usage
	summary string // one line, for the command list
	// flags declares the command's flags on fs and returns the function
	// that runs it with the parsed flags and the remaining arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error
}

// commands lists httptop's subcommands in the order help shows them.
func commands() []command {
	return []command{psCommand, attachCommand, snapshotCommand, captureCommand, reportCommand, diffCommand, demoCommand}
}

// Run runs the command line args (without the program name).
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return m.runDefault(ctx)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			return m.Run(ctx, []string{args[1], "--help"})
		}
		m.usage(m.Stdout)
		return nil
	case "-version", "--version", "version":
		fmt.Fprintln(m.Stdout, "httptop", version())
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return m.runCommand(ctx, c, args[1:])
		}
	}
	m.usage(m.Stderr)
	return usageErrorf("unknown command %q", args[0])
}

func (m *Main) runCommand(ctx context.Context, c command, args []string) error {
	fs := flag.NewFlagSet("httptop "+c.name, flag.ContinueOnError)
	run := c.flags(fs)
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: httptop %s %s\n\n%s\n", c.name, c.args, c.summary)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nflags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
		}
	}
	// The flag package would print its error and the usage itself; this
	// prints help on stdout, and usage then one error line on stderr.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(interspersed(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(m.Stdout)
			return nil
		}
		usage(m.Stderr)
		return usageError{err}
	}
	return run(ctx, m, fs.Args())
}

// interspersed moves flags that follow positional arguments in front of
// them, so that `httptop capture 1234 -d 10s` works as well as
// `httptop capture -d 10s 1234`.
func interspersed(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBool(f) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	// "--" ends the flags for the flag package too: after it, -5 is an
	// argument.
	return append(append(flags, "--"), pos...)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, `httptop: see what a Go program's HTTP clients are doing.

usage: httptop [command] [arguments]

With no command, httptop attaches to the one agent running on this
machine, or lists them when there are several.

commands:`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, `
TARGET is a process id, a host:port, or a unix socket path; it may be left
out when exactly one agent runs on this machine. DIR, BEFORE and AFTER are
directories httptop capture wrote.

Run 'httptop COMMAND --help' for a command's flags.`)
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// ExitCode reports err on Stderr, in one line, and returns the process exit
// status: 0 for success or an interrupt, 2 for a usage mistake, 1 for
// anything else.
func (m *Main) ExitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return 0
	case errors.As(err, &ue):
		if !errors.Is(err, flag.ErrHelp) && ue.err.Error() != "" {
			fmt.Fprintln(m.Stderr, "httptop:", oneLine(err))
		}
		return 2
	}
	fmt.Fprintln(m.Stderr, "httptop:", oneLine(err))
	return 1
}

// oneLine is err's message on one line: the errors errors.Join put on
// lines of their own are separated by semicolons, and control characters
// (an agent's or a file's) are made harmless.
func oneLine(err error) string {
	return termtext.Clean(strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; "))
}
