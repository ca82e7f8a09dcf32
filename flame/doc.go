// Package flame captures Go profiles and turns them into things people read:
// a table of top functions, folded stacks and interactive SVG flame graphs.
//
// Capture comes in two shapes. Continuous kinds (CPU and Wall) run for a
// while: [Start] begins one and returns the function that stops it and
// writes the profile, in the shape of fgprof.Start, and [Capture] runs one
// for a duration or until a context ends. Point-in-time kinds (Heap and
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
// Folded and SVG merge stacks by prefix into one tree built once per call,
// so a profile with 100k samples of 64 frames renders in a fraction of a
// second (see testdata/bench.txt).
//
// The package knows nothing about HTTP; the agent and the CLI serve and
// store what it produces.
package flame
