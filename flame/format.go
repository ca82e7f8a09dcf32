package flame

import (
	"strconv"
	"unicode/utf8"
)

// appendValue appends v in the profile's unit, scaled for people: "1.25 s",
// "3.00 MiB", "42 samples".
func appendValue(b []byte, v int64, typ, unit string) []byte {
	f := float64(v)
	a := f
	if a < 0 {
		a = -a
	}
	switch unit {
	case "nanoseconds":
		switch {
		case a >= 1e9:
			return append(strconv.AppendFloat(b, f/1e9, 'f', 2, 64), " s"...)
		case a >= 1e6:
			return append(strconv.AppendFloat(b, f/1e6, 'f', 2, 64), " ms"...)
		case a >= 1e3:
			return append(strconv.AppendFloat(b, f/1e3, 'f', 2, 64), " µs"...)
		}
		return append(strconv.AppendInt(b, v, 10), " ns"...)
	case "bytes":
		switch {
		case a >= 1<<30:
			return append(strconv.AppendFloat(b, f/(1<<30), 'f', 2, 64), " GiB"...)
		case a >= 1<<20:
			return append(strconv.AppendFloat(b, f/(1<<20), 'f', 2, 64), " MiB"...)
		case a >= 1<<10:
			return append(strconv.AppendFloat(b, f/(1<<10), 'f', 2, 64), " KiB"...)
		}
		return append(strconv.AppendInt(b, v, 10), " B"...)
	case "count", "":
		b = strconv.AppendInt(b, v, 10)
		if typ != "" {
			b = append(append(b, ' '), typ...)
		}
		return b
	}
	return append(append(strconv.AppendInt(b, v, 10), ' '), unit...)
}

// appendPercent appends part as a percentage of total with two decimals.
func appendPercent(b []byte, part, total int64) []byte {
	return append(strconv.AppendFloat(b, percent(part, total), 'f', 2, 64), '%')
}

// appendXML appends s escaped for XML text and attribute values. Runes XML
// cannot hold at all (most control characters, invalid UTF-8) become U+FFFD
// so that the document always parses.
func appendXML(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '"':
				b = append(b, "&quot;"...)
			case c == '\'':
				b = append(b, "&apos;"...)
			case c < ' ' && c != '\t' && c != '\n' && c != '\r':
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !xmlChar(r) {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// xmlChar reports whether r, which is not ASCII, is allowed in XML 1.0.
func xmlChar(r rune) bool {
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune
}
