// Package flame captures Go profiles and turns them into things people read:
// a table of top functions, the same in the program's terms (its code, its
// packages, kinds of work, where requests wait, contended locks), folded
// stacks and interactive SVG flame graphs.
//
// Capture comes in two shapes. Continuous kinds (CPU, Wall, Mutex and
// Block) run for a while: [Start] begins one and returns the function that
// stops it and writes the profile, in the shape of fgprof.Start, and
// [Capture] runs one for a duration or until a context ends. Point-in-time kinds (Heap and
// Goroutine) are read at once with [Snapshot].
//
// Rendering works on any pprof profile (*profile.Profile from
// github.com/google/pprof/profile), whoever produced it: [Top] for the
// functions that cost most, [Folded] for the text format read by
// flamegraph.pl, inferno and speedscope, and [SVG] for a self-contained,
// interactive flame graph; [DiffSVG] draws a differential one, the frames
// of one profile coloured by how each changed from another's (per
// request, with scales). All three expand inlined frames and name frames by
// function only (no file or line), so a function appears once per stack
// level however many lines of it were sampled. [SampleIndex] picks which of a
// profile's values (samples, cpu, inuse_space, ...) they show.
//
// Attribution names the program's code rather than the runtime's leaves.
// [Attribute] sums a profile up in four views: code (each sample charged
// to the innermost function of the program's own module or a third-party
// one, given the program's module list, [Modules]), packages (cumulative
// share per package), categories (GC and allocation, scheduler, syscalls,
// TLS, encoding, the HTTP client, httptop itself, the program's code: one
// table, categoryRules) and flat (Top). httptop's own work (samples under
// the pprof label [LabelKey], or with its agent's frames) is kept apart.
// [AttributeWaits] reads a wall-clock profile for where the goroutines of
// HTTP requests wait: for a connection, dialing, for headers, reading the
// body, or outside the transport in the program's own code.
// [Contention] lists the call sites of a block or mutex profile, which
// Start takes over a span of time.
//
// Folded and SVG merge stacks by prefix into one tree built once per call,
// so a profile with 100k samples of 64 frames renders in a fraction of a
// second (see testdata/bench.txt).
//
// The package knows nothing about HTTP; the agent and the CLI serve and
// store what it produces.
package flame
