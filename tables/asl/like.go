package asl

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// LikeToRegexp converts a SQL LIKE pattern to an anchored regular
// expression: % becomes .*, _ becomes ., and every other character stands
// for itself (regexp metacharacters are escaped).
//
// osquery's conversion (convertLikeRegex) only replaces % and _: it leaves
// the pattern unanchored, so 'foo%' also matches "xfoo", and it does not
// escape metacharacters, so 'a.b' matches "axb" and 'C++' is an invalid
// expression. Its ASL query is only a prefilter that SQLite re-checks, which
// hides the first two mistakes and makes the third drop rows. Here the
// expression matches exactly the strings the LIKE pattern matches, with
// the flags Compile adds.
func LikeToRegexp(pattern string) string {
	var b strings.Builder
	b.Grow(len(pattern) + 8)
	b.WriteByte('^')
	for _, r := range pattern {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteByte('.')
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteByte('$')
	return b.String()
}

// likeMatcher matches strings against one LIKE pattern the way SQLite's
// default LIKE does: case-insensitive for ASCII letters only, _ matching
// one character, % any run of characters including newlines.
type likeMatcher struct {
	re *regexp.Regexp
}

// compileLike compiles a LIKE pattern. It fails only for a pattern that is
// not valid UTF-8, which is then left to SQLite.
func compileLike(pattern string) (*likeMatcher, bool) {
	if !utf8.ValidString(pattern) {
		return nil, false
	}
	// (?s): . matches a newline too, as _ and % do. (?i) folds case; Go
	// folds some non-ASCII letters SQLite does not (K and the Kelvin sign),
	// so the match is a superset of SQLite's, never a subset: SQLite
	// re-checks every row and removes the difference.
	re, err := regexp.Compile("(?is)" + LikeToRegexp(pattern))
	if err != nil {
		return nil, false
	}
	return &likeMatcher{re: re}, true
}

// match reports whether s may match. A value that is not valid UTF-8 is
// passed on (SQLite's character boundaries differ from Go's there).
func (m *likeMatcher) match(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return m.re.MatchString(s)
}
