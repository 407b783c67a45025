package engine

import (
	"math"
	"testing"
)

func TestParseCInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"42", 42, true},
		{"-42", -42, true},
		{"+7", 7, true},
		{" \t\n42", 42, true},
		{"0x1A", 26, true},
		{"0X1a", 26, true},
		{"-0x10", -16, true},
		{"017", 15, true},
		{"08", 0, true},     // octal stops at 8
		{"0x", 0, true},     // "0", then garbage
		{"0xg", 0, true},    // same
		{"12abc", 12, true}, // trailing garbage ignored
		{"12 ", 12, true},   // trailing space ignored
		{"1.9", 1, true},    // stops at the dot
		{"1e3", 1, true},    // no exponents
		{"1_000", 1, true},  // no underscores
		{"0b101", 0, true},  // no binary prefix
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"0x7fffffffffffffff", math.MaxInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"0x8000000000000000", 0, false},
		{"99999999999999999999999abc", 0, false},
		{"", 0, false},
		{" ", 0, false},
		{"-", 0, false},
		{"+-1", 0, false},
		{"- 1", 0, false},
		{"abc", 0, false},
		{"x12", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseCInt(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseCInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseCDouble(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true},
		{"-2", -2, true},
		{" 3e2", 300, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{"0x10", 16, true},
		{"0x1.8p1", 3, true},
		{"-0x1", -1, true},
		{"inf", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true},
		{"1e999", math.Inf(1), true}, // strtod overflows to HUGE_VAL
		{"1.5\x00junk", 1.5, true},   // a C string ends at NUL
		{"", 0, false},
		{" ", 0, false},
		{"1.5 ", 0, false},
		{"1.5x", 0, false},
		{"1e", 0, false},
		{"0x", 0, false},
		{"1_0", 0, false},
		{"0x_1p0", 0, false},
		{"abc", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseCDouble(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseCDouble(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if f, ok := parseCDouble("nan"); ok && !math.IsNaN(f) {
		t.Errorf("nan: %v", f)
	}
}
