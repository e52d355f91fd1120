package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
)

// maxHeaderBytes bounds the head of one answer (status line, header
// lines, or a chunked body's trailer), so that a hostile receiver cannot
// make the generator loop or grow. net/http's client allows 10 MB; 1 MiB
// is far more than any webhook ack carries (a session cookie near the
// 4 KB browsers allow, a hundred headers from a proxy chain) and still
// bounded.
const maxHeaderBytes = 1 << 20

// errMalformed is a response that is not HTTP/1.x.
var errMalformed = errors.New("load: malformed HTTP response")

// readResponse reads the final answer to req, skipping informational ones
// (a 103 Early Hints, say), which have no body.
//
// Unlike http.ReadResponse it builds no header map: the engine judges an
// answer by its status alone, and at maximum rate the map (canonicalised
// keys, one allocation per value) was a tenth of the generator's CPU. It
// reads only the framing fields: Content-Length, Transfer-Encoding and
// Connection. The returned Response's Header is nil.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	var status string
	return readResponseInto(br, req, new(http.Response), new(lengthBody), &status)
}

// readResponseInto is readResponse into a Response and length-delimited
// body the caller reuses; status caches the status text, so that a run of
// "200 OK" answers converts it once.
func readResponseInto(br *bufio.Reader, req *http.Request, resp *http.Response, lb *lengthBody, status *string) (*http.Response, error) {
	for range 8 {
		err := readOneResponse(br, req, resp, lb, status)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
	return nil, errors.New("load: too many informational responses")
}

func readOneResponse(br *bufio.Reader, req *http.Request, resp *http.Response, lb *lengthBody, status *string) error {
	budget := maxHeaderBytes
	line, cut, err := readLine(br, &budget)
	if err == nil && cut {
		err = fmt.Errorf("%w: status line longer than %d bytes", errMalformed, br.Size())
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the connection closed before any answer
		}
		return err
	}
	// "HTTP/1.1 200 OK": the reason phrase is optional.
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return fmt.Errorf("%w: status line %q", errMalformed, truncate(line))
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil || code < 100 {
		return fmt.Errorf("%w: status code %q", errMalformed, line[9:12])
	}
	if string(line[9:]) != *status {
		*status = string(line[9:])
	}
	proto := "HTTP/1.1"
	if line[7] != '1' {
		proto = string(line[:8])
	}
	*resp = http.Response{
		Status: *status, StatusCode: code, Proto: proto,
		ProtoMajor: 1, ProtoMinor: int(line[7] - '0'), Request: req, ContentLength: -1,
	}
	keepAlive10 := false
	chunked := false
	for {
		line, cut, err := readLine(br, &budget)
		if err != nil {
			return unexpected(err)
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("%w: header line %q", errMalformed, truncate(line))
		}
		framing := asciiEqualFold(name, "content-length") || asciiEqualFold(name, "transfer-encoding") || asciiEqualFold(name, "connection")
		if cut && framing {
			return fmt.Errorf("%w: %s header longer than %d bytes", errMalformed, name, br.Size())
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			cl, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || cl < 0 || (resp.ContentLength >= 0 && cl != resp.ContentLength) {
				return fmt.Errorf("%w: Content-Length %q", errMalformed, truncate(value))
			}
			resp.ContentLength = cl
		case asciiEqualFold(name, "transfer-encoding"):
			if !asciiEqualFold(value, "chunked") {
				return fmt.Errorf("%w: Transfer-Encoding %q", errMalformed, truncate(value))
			}
			chunked = true
		case asciiEqualFold(name, "connection"):
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = bytes.TrimSpace(tok)
				resp.Close = resp.Close || asciiEqualFold(tok, "close")
				keepAlive10 = keepAlive10 || asciiEqualFold(tok, "keep-alive")
			}
		}
	}
	if resp.ProtoMinor == 0 && !keepAlive10 {
		resp.Close = true
	}
	switch {
	case code < 200 || code == http.StatusNoContent || code == http.StatusNotModified || req.Method == http.MethodHead:
		resp.Body, resp.ContentLength = http.NoBody, 0
	case chunked:
		// Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
		resp.ContentLength = -1
		resp.Body = io.NopCloser(&chunkedBody{br: br, r: httputil.NewChunkedReader(br)})
	case resp.ContentLength >= 0:
		*lb = lengthBody{br: br, left: resp.ContentLength}
		resp.Body = lb
	default:
		// Delimited by the close of the connection, which is then spent.
		resp.Close = true
		resp.Body = io.NopCloser(br)
	}
	return nil
}

// readLine returns one line without its CRLF; it is valid until the next
// read from br. A line longer than br's buffer comes back cut to the
// buffer's length, with cut set, and the rest of it is read and dropped:
// the transport interprets only short lines (the status line and the
// framing headers), and a long header of another name, say a Set-Cookie,
// must not cost the answer. Every byte read counts against budget; a head
// over it is an error.
func readLine(br *bufio.Reader, budget *int) (line []byte, cut bool, err error) {
	line, err = br.ReadSlice('\n')
	*budget -= len(line)
	if err == bufio.ErrBufferFull {
		// Reading the rest refills the buffer under the slice: keep a
		// copy of its start, which holds the name the caller looks at.
		cut = true
		line = append([]byte(nil), line[:min(len(line), 256)]...)
		for err == bufio.ErrBufferFull {
			if *budget < 0 {
				return nil, false, fmt.Errorf("%w: answer head longer than %d bytes", errMalformed, maxHeaderBytes)
			}
			var rest []byte
			rest, err = br.ReadSlice('\n')
			*budget -= len(rest)
		}
	}
	if *budget < 0 {
		return nil, false, fmt.Errorf("%w: answer head longer than %d bytes", errMalformed, maxHeaderBytes)
	}
	if err != nil {
		return nil, false, err
	}
	if !cut {
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line, cut, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// asciiEqualFold compares a header token with a lower-case literal.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// lengthBody reads exactly left bytes; a shorter body is an
// io.ErrUnexpectedEOF.
type lengthBody struct {
	br   *bufio.Reader
	left int64
}

// Close does nothing: the connection's body (h1Body) releases it.
func (b *lengthBody) Close() error { return nil }

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if err == io.EOF {
		if b.left > 0 {
			return n, io.ErrUnexpectedEOF
		}
		return n, nil
	}
	return n, err
}

// chunkedBody is a chunked body whose trailer section is consumed at the
// end, so the connection is positioned at the next answer.
type chunkedBody struct {
	br *bufio.Reader
	r  io.Reader
}

func (b *chunkedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != io.EOF {
		return n, unexpected(err)
	}
	budget := maxHeaderBytes
	for {
		line, cut, err := readLine(b.br, &budget)
		if err != nil {
			return n, unexpected(err)
		}
		if len(line) == 0 && !cut {
			return n, io.EOF
		}
	}
}
