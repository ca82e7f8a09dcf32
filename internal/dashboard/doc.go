// Package dashboard is httptop's live terminal dashboard: a top-like view of
// one program's HTTP client pools, connections, hot functions and
// diagnoses, fed by snapshots from a [Source] (the agent client, in httptop
// attach and httptop demo).
//
// The package is split the way k9s splits its views:
//
//   - the model (model.go, columns.go, history.go) holds plain data: the
//     snapshot on show, the rows derived from it, sorted and filtered once
//     per snapshot, each host's recent history, and the UI state (focus,
//     pause, filter, drill-in). It knows nothing about tview;
//   - pure render functions (format.go, render.go) turn the model into
//     strings: numbers, sparklines, header and footer lines, help. They are
//     unit-tested without a screen;
//   - the views (views.go, tables.go, keys.go, theme.go) are tview widgets
//     that read the model when they draw. Tables implement
//     tview.TableContent over the model's sorted rows, so 10,000
//     connections cost only the rows on screen.
//
// run.go runs it all: the application, the snapshot stream with its
// reconnection backoff, the rolling profiler and captures.
//
// Concurrency follows tview's rule: widgets and the model are touched only
// on the UI goroutine. The snapshot stream, the profiler and a capture run
// on goroutines of their own and hand their results over through a mailbox
// that schedules one tview Application.QueueUpdateDraw at a time, so a fast
// source can neither flood the event queue nor block on it.
package dashboard
