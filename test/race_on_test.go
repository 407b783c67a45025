//go:build race

package test

// raceEnabled builds the extension under test with -race when the tests
// themselves run with -race.
const raceEnabled = true
