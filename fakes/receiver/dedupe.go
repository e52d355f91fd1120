package receiver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// dedupe is the set of accepted event_ids. claim is an atomic check-and-set
// under one mutex, so of N concurrent copies exactly one wins.
//
// Persistence: with a state file, every accepted event_id is appended as
// one line holding a Go-quoted string (so any id, newlines included, stays
// one line), in a single write(2) on an O_APPEND file. The file is fsynced
// on close, not per event: a process crash keeps every line whose write
// returned, only a machine crash can lose the tail, and a torn last line
// (no newline) is ignored when the file is read back at start.
//
// With a memory (a TTL, as a cache would have), an id is forgotten that long
// after it was claimed; ids read back from the state file count as claimed
// at start. inFlight holds the claimed ids whose processing has not
// finished, for receivers that answer copies of those differently.
type dedupe struct {
	mu       sync.Mutex
	seen     map[string]time.Time // when claimed
	inFlight map[string]struct{}
	memory   time.Duration // 0: for ever
	now      func() time.Time
	file     *os.File // nil: in memory only
}

func newDedupe(path string, memory time.Duration, now func() time.Time) (*dedupe, error) {
	d := &dedupe{seen: map[string]time.Time{}, inFlight: map[string]struct{}{}, memory: memory, now: now}
	if path == "" {
		return d, nil
	}
	start := now()
	f, err := openLog(path, 0o600, func(line string) {
		if id, err := strconv.Unquote(line); err == nil {
			d.seen[id] = start
		}
	})
	if err != nil {
		return nil, fmt.Errorf("receiver: state_file: %w", err)
	}
	d.file = f
	return d, nil
}

// claim marks id as accepted and reports whether it was new.
func (d *dedupe) claim(id string) bool {
	ok, _ := d.claimInFlight(id)
	if ok {
		d.finish(id)
	}
	return ok
}

// claimInFlight is claim that also marks a new id in flight until finish;
// for a known id it reports whether its processing is still in flight.
func (d *dedupe) claimInFlight(id string) (claimed, inFlight bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.knownLocked(id) {
		_, inFlight = d.inFlight[id]
		return false, inFlight
	}
	d.seen[id] = d.now()
	d.inFlight[id] = struct{}{}
	return true, false
}

// finish ends id's in-flight processing.
func (d *dedupe) finish(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inFlight, id)
}

// knownLocked reports whether id is remembered; d.mu must be held.
func (d *dedupe) knownLocked(id string) bool {
	at, ok := d.seen[id]
	if ok && d.memory > 0 && d.now().Sub(at) >= d.memory {
		delete(d.seen, id)
		return false
	}
	return ok
}

// contains is the "check" half of a check-then-act race (racy-dedupe only).
func (d *dedupe) contains(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.knownLocked(id)
}

// mark is the "act" half: it records id without looking (racy-dedupe only).
func (d *dedupe) mark(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[id] = d.now()
}

// release forgets a claim whose event could not be queued, so that the
// sender's retry of the 503 is processed instead of being acked as a
// duplicate of an event that never ran (RETRY-02).
func (d *dedupe) release(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, id)
	delete(d.inFlight, id)
}

// persist appends id to the state file. It is called only once the event
// is queued, so a released claim never reaches the file.
func (d *dedupe) persist(id string) error {
	if d.file == nil {
		return nil
	}
	_, err := d.file.Write([]byte(strconv.Quote(id) + "\n"))
	return err
}

func (d *dedupe) close() error {
	if d.file == nil {
		return nil
	}
	return errors.Join(d.file.Sync(), d.file.Close())
}

// readLines calls fn for every newline-terminated line of path; a missing
// file has no lines, and an unterminated last line is a torn write.
// openLog replays an append-only log of lines through fn, then opens it for
// appending: the shape of both the dedupe state and the effects file,
// which must survive a restart.
func openLog(path string, perm os.FileMode, fn func(string)) (*os.File, error) {
	if err := readLines(path, fn); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
}

func readLines(path string, fn func(string)) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) {
			return nil // a partial last line is dropped
		}
		if err != nil {
			return err
		}
		fn(line[:len(line)-1])
	}
}
