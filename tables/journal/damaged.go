package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sd_journal skips a journal file it cannot open (a damaged header, a
// truncated file) without telling its caller, so the source checks the
// headers itself to count such files: the signature, a plausible header
// size, and header plus arena within the file (journald's own header check).
const (
	journalSignature = "LPKSHHRH"
	offHeaderSize    = 88
	offArenaSize     = 96
	minHeaderSize    = 208
)

// errUnreadable is checkHeader's reason for a file this process may not
// read: not damaged, but skipped by sd_journal all the same.
const errUnreadable = "permission denied (run as root or in the systemd-journal group)"

// systemJournalDirs are where sd_journal_open reads the system journal.
var systemJournalDirs = []string{"/var/log/journal", "/run/log/journal"}

// damagedFiles returns the journal files under path (a directory and its
// subdirectories one level down, as sd_journal_open_directory reads them;
// a single file; or, for "", the system journal directories) that
// sd_journal skips, each with the reason: a damaged header, or
// errUnreadable.
func damagedFiles(path string) map[string]string {
	out := map[string]string{}
	var dirs []string
	switch fi, err := os.Stat(path); {
	case path == "":
		dirs = systemJournalDirs
	case err != nil:
		return out
	case !fi.IsDir():
		if why := checkHeader(path); why != "" {
			out[path] = why
		}
		return out
	default:
		dirs = []string{path}
	}
	for _, d := range dirs {
		for _, p := range journalFiles(d, 1) {
			if why := checkHeader(p); why != "" {
				out[p] = why
			}
		}
	}
	return out
}

// journalFiles lists *.journal and *.journal~ files in dir and, depth
// levels down, in its subdirectories.
func journalFiles(dir string, depth int) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && depth > 0:
			out = append(out, journalFiles(p, depth-1)...)
		case e.Type().IsRegular() && (strings.HasSuffix(e.Name(), ".journal") || strings.HasSuffix(e.Name(), ".journal~")):
			out = append(out, p)
		}
	}
	return out
}

// checkHeader returns why the journal file p cannot be read, or "".
func checkHeader(p string) string {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrPermission) {
		return errUnreadable
	}
	if err != nil {
		return "" // gone meanwhile
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	var h [minHeaderSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Sprintf("shorter (%d bytes) than a journal header", fi.Size())
	}
	if string(h[:8]) != journalSignature {
		return "no journal file signature"
	}
	hs := binary.LittleEndian.Uint64(h[offHeaderSize:])
	as := binary.LittleEndian.Uint64(h[offArenaSize:])
	if hs < minHeaderSize || hs > 1<<20 {
		return fmt.Sprintf("implausible header size %d", hs)
	}
	if hs+as > uint64(fi.Size()) || hs+as < hs {
		return fmt.Sprintf("truncated: header and arena take %d bytes, the file has %d", hs+as, fi.Size())
	}
	return ""
}
