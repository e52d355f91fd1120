package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Caps on file inputs. Each is far above any real input of its kind and
// far below what would exhaust memory or keep a run parsing for minutes.
const (
	// maxSecretFileBytes caps an @FILE secret: a password, a token or a
	// client secret, never more than a few KiB (a JWT included).
	maxSecretFileBytes = 64 << 10
	// maxReplayFileBytes caps a --from replay file; what it holds is capped
	// again by maxReplayBytes.
	maxReplayFileBytes = 2 * maxReplayBytes
	// maxResultsFileBytes caps one raw load results file (--results): a
	// shard of millions of requests, read as a stream.
	maxResultsFileBytes = 4 << 30
	// maxConfigBytes caps the config file: it is read whole, and anything
	// bigger is not a hand-written config.
	maxConfigBytes = 1 << 20
	// maxBodyFile caps --body-file: it is read into memory whole.
	maxBodyFile = 64 << 20
)

// errTooLarge marks an input over its cap.
var errTooLarge = errors.New("too large")

// openInput opens path for flag: it must be a regular file (a device, a
// FIFO or a directory is refused: /dev/zero never ends) of at most limit
// bytes, and the reader returned fails if the file grows past limit while
// it is read. Errors name the flag and the cap.
func openInput(flag, path string, limit int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s %s: not a regular file", flag, path)
	}
	if fi.Size() > limit {
		f.Close()
		return nil, tooLarge(flag, path, limit)
	}
	return struct {
		io.Reader
		io.Closer
	}{capReader(f, flag, path, limit), f}, nil
}

// readInput reads a whole input opened as openInput does.
func readInput(flag, path string, limit int64) ([]byte, error) {
	rc, err := openInput(flag, path, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// checkInput applies openInput's checks to a file something else reads.
func checkInput(flag, path string, limit int64) error {
	rc, err := openInput(flag, path, limit)
	if err != nil {
		return err
	}
	return rc.Close()
}

func tooLarge(flag, path string, limit int64) error {
	return fmt.Errorf("%s %s: %w: larger than the %s %s accepts", flag, path, errTooLarge, byteSize(limit), flag)
}

// capReader fails with tooLarge once more than limit bytes were read from r
// (a stdin pipe, or a file that grew after it was checked).
func capReader(r io.Reader, flag, path string, limit int64) io.Reader {
	return &cappedReader{r: r, left: limit, flag: flag, path: path, limit: limit}
}

type cappedReader struct {
	r          io.Reader
	left       int64
	flag, path string
	limit      int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, tooLarge(c.flag, c.path, c.limit)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, tooLarge(c.flag, c.path, c.limit)
	}
	return n, err
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
