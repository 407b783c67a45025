//go:build cgo

// Package libc exposes the C library's number parsers to the engine's tests,
// which check that the engine's Go ports agree with what osqueryd (C++)
// computes.
package libc

/*
#include <errno.h>
#include <stdlib.h>
#include <string.h>

// Like std::stoll(s, &pos, 0): fails when nothing was converted or on
// overflow; trailing characters are ignored.
static int stoll0(const char *s, long long *out) {
	char *end;
	errno = 0;
	*out = strtoll(s, &end, 0);
	return end != s && errno != ERANGE;
}

// Like osquery's DOUBLE cast: strtod that must consume the whole string.
static int strtod_all(const char *s, double *out) {
	char *end = 0;
	*out = strtod(s, &end);
	return end != 0 && end != s && *end == 0;
}
*/
import "C"

import "unsafe"

// Stoll parses s as std::stoll(s, nullptr, 0) does, on the C string s
// (which ends at its first NUL byte).
func Stoll(s string) (int64, bool) {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	var v C.longlong
	ok := C.stoll0(cs, &v) != 0
	return int64(v), ok
}

// StrtodAll parses s with strtod and reports whether it consumed all of the
// C string s.
func StrtodAll(s string) (float64, bool) {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	var v C.double
	ok := C.strtod_all(cs, &v) != 0
	return float64(v), ok
}
