package osquerysyslog_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeDevelopmentTable fails when a directory with Go code is missing
// from the README's "Development" table, so that the table stays a complete
// map of the packages. The repository root, which holds only this test, is
// not a package of the project.
func TestReadmeDevelopmentTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Development\n")
	if !ok {
		t.Fatal(`README.md has no "## Development" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	listed := map[string]bool{}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		listed[strings.TrimSuffix(m[1], "/")] = true
	}
	if len(listed) == 0 {
		t.Fatal("no rows found in the Development table")
	}

	var missing []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir // what the go command ignores
			}
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir != "." && strings.HasSuffix(path, ".go") && !listed[dir] {
			listed[dir] = true // report once
			missing = append(missing, dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range missing {
		t.Errorf("README.md's Development table has no row for %s/ (a directory with Go code): add one with its one job", dir)
	}
}
