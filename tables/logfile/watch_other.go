//go:build !linux

package logfile

import "errors"

// watcher is Linux-only (inotify); elsewhere the tailer polls.
type watcher struct{ ready chan struct{} }

func newWatcher([]string) (*watcher, error) { return nil, errors.New("inotify is Linux-only") }
func (w *watcher) addMissing()              {}
func (w *watcher) partial() bool            { return true }
func (w *watcher) take() ([]string, bool)   { return nil, true }
func (w *watcher) close()                   {}
