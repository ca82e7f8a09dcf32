package report

import "github.com/httptop/httptop/snapshot"

// The report's formatting, exported for pages that show the same figures
// beside the report (package diff), so that a figure reads the same in
// both. Each formats as report.md and report.html do.

// FormatMs formats a duration in milliseconds with a precision that suits
// its size: 0.42 ms, 4.2 ms, 420 ms, 4.20 s.
func FormatMs(ms float64) string { return fmtMs(ms) }

// FormatNum formats a count or a rate: one decimal below 1000, none above.
func FormatNum(v float64) string { return fmtNum(v) }

// FormatRate formats a per-second rate: two decimals below 10, one below
// 1000, none above.
func FormatRate(v float64) string { return fmtRate(v) }

// FormatPct formats a fraction as a percentage.
func FormatPct(f float64) string { return fmtPct(f) }

// FormatSeconds formats a span of seconds: 20 s, 1.5 s, 30 min.
func FormatSeconds(s float64) string { return fmtSeconds(s) }

// FormatBytes formats a size in bytes with a binary unit.
func FormatBytes(b int64) string { return fmtBytes(b) }

// FormatEvidence formats a diagnosis' evidence value: integers without
// decimals.
func FormatEvidence(v float64) string { return fmtEvidence(v) }

// FormatN formats a pool size: the limit, ∞ (no limit) or ? (unknown).
func FormatN(n int, known bool) string { return fmtN(n, known) }

// FormatPool formats a pool as "peak open/limit": 4/4, 12/∞, 12/?.
func FormatPool(p Pool) string { return fmtPool(p) }

// KindName names a profile kind for people: CPU, Wall-clock, Heap.
func KindName(kind snapshot.ProfileKind) string { return kindName(kind) }

// PWaitText is the probability of waiting at the current pool size, as
// the report shows it ("–" without a limit, "100% (unstable)").
func PWaitText(lt *Little) string { return pWaitText(lt) }

// RelationText compares λ·W with N as the report does: "< N (40%)".
func RelationText(lt *Little) string { return relationText(lt) }

// MarkdownText escapes text for a Markdown paragraph or table cell.
func MarkdownText(s string) string { return mdText(s) }

// MarkdownCode writes s as inline code, safe inside a table cell.
func MarkdownCode(s string) string { return mdCode(s) }

// HostLabel names a host for people: "client → scheme://host".
func HostLabel(client, scheme, host string) string { return hostLabel(client, scheme, host) }
