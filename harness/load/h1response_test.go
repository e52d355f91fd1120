package load

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestReadResponseFraming(t *testing.T) {
	t.Parallel()
	post, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	for _, tc := range []struct {
		name, raw string
		code      int
		body      string
		close     bool
		// next is what must remain buffered: the framing consumed exactly
		// one answer.
		next string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nOKnext", 200, "OK", false, "next"},
		{"chunked with trailer", "HTTP/1.1 202 Accepted\r\ntransfer-encoding: Chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\nnext", 202, "abcde", false, "next"},
		{"chunked wins over length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 200, "x", false, ""},
		{"connection close", "HTTP/1.1 503 Service Unavailable\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", 503, "", true, ""},
		{"http/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 200, "x", true, ""},
		{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", 200, "x", false, ""},
		{"early hints skipped", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 201, "", false, ""},
		{"204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nnext", 204, "", false, "next"},
		{"no reason phrase, LF only", "HTTP/1.1 200\nContent-Length: 0\n\n", 200, "", false, ""},
		{"close-delimited", "HTTP/1.1 200 OK\r\n\r\nall of it", 200, "all of it", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.raw), 4096)
			resp, err := readResponse(br, post)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code || string(body) != tc.body || resp.Close != tc.close {
				t.Errorf("got %d %q close=%v; want %d %q close=%v", resp.StatusCode, body, resp.Close, tc.code, tc.body, tc.close)
			}
			if tc.code == 503 && resp.Status != "503 Service Unavailable" {
				t.Errorf("Status %q; want the status line's", resp.Status)
			}
			if rest, _ := io.ReadAll(br); !tc.close && string(rest) != tc.next {
				t.Errorf("left %q after the answer; want %q", rest, tc.next)
			}
		})
	}
}

func TestReadResponseRefusesMalformedAnswers(t *testing.T) {
	t.Parallel()
	post, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	for _, tc := range []struct{ name, raw string }{
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n"},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n"},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"},
		{"unknown coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"},
		{"header without colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n"},
		{"endless headers", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", maxHeaderBytes/6+1) + "\r\n"},
		{"endless header line", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", maxHeaderBytes) + "\r\n\r\n"},
		{"framing header too long", "HTTP/1.1 200 OK\r\nConnection: " + strings.Repeat("keep-alive, ", 500) + "\r\n\r\n"},
		{"status line too long", "HTTP/1.1 200 " + strings.Repeat("O", 5000) + "\r\n\r\n"},
		{"endless early hints", strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 9)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readResponse(bufio.NewReaderSize(strings.NewReader(tc.raw), 4096), post)
			if err == nil {
				t.Fatal("no error; want the answer refused")
			}
		})
	}
	for _, tc := range []struct{ name, raw string }{
		{"closed before answering", ""},
		{"closed in the headers", "HTTP/1.1 200 OK\r\nContent-Len"},
	} {
		_, err := readResponse(bufio.NewReader(strings.NewReader(tc.raw)), post)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: error %v; want io.ErrUnexpectedEOF (a reset, for RETRY-01)", tc.name, err)
		}
	}
	resp, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")), post)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short body: error %v; want io.ErrUnexpectedEOF", err)
	}
}

// Long and many header lines the transport does not interpret are read
// past, as net/http reads them, and leave the connection at the next
// answer: a session cookie near the 4 KB browsers allow, or a proxy chain's
// hundred headers, must not cost an ack.
func TestReadResponseReadsPastLongAndManyHeaders(t *testing.T) {
	t.Parallel()
	post, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	raw := "HTTP/1.1 200 OK\r\nSet-Cookie: s=" + strings.Repeat("c", 5000) + "\r\n" +
		strings.Repeat("X-Hop: proxy\r\n", 150) + "Content-Length: 2\r\n\r\nOK" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Trailer: " + strings.Repeat("t", 5000) + "\r\n\r\n" +
		"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	br := bufio.NewReaderSize(strings.NewReader(raw), 4096)
	for _, want := range []struct {
		code int
		body string
	}{{200, "OK"}, {200, "hi"}, {201, ""}} {
		resp, err := readResponse(br, post)
		if err != nil {
			t.Fatalf("answer %d: %v", want.code, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != want.code || string(body) != want.body {
			t.Fatalf("got %d %q %v; want %d %q", resp.StatusCode, body, err, want.code, want.body)
		}
	}
}
