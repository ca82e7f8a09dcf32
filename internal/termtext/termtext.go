// Package termtext makes text that comes from elsewhere (an agent's
// reply, a capture file) safe to print on a terminal: a program name or a
// host that holds an escape sequence must not clear the screen, set the
// window's title or reorder the line.
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Clean returns s fit to print within a line: tabs, newlines and
// carriage returns become spaces, and every other control character (C0,
// DEL, C1: escape sequences start with them), bidirectional formatting
// character and invalid UTF-8 byte becomes U+FFFD, which shows that
// something was there. Text with none of them is returned as is, without
// allocating.
func Clean(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError && size == 1, unsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clean reports whether s needs no change: printable ASCII, or UTF-8
// without the runes Clean replaces.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return cleanUTF8(s[i:])
		}
	}
	return true
}

func cleanUTF8(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\t' || r == '\n' || r == '\r' || (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return false
		}
		i += size
	}
	return true
}

// unsafeRune reports whether r is a control character or a bidirectional
// formatting character.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // ALM, LRM, RLM
		r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}
