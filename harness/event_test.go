package harness

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`quote " and \ backslash`, `"quote \" and \\ backslash"`},
		{"nl\ncr\rtab\t", `"nl\ncr\rtab\t"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"ünïcödé ✓", `"ünïcödé ✓"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"line\u2028para\u2029", `"line\u2028para\u2029"`},
		{"</script>", `"</script>"`},
	} {
		if got := string(appendJSONString(nil, tc.in)); got != tc.want {
			t.Errorf("appendJSONString(%q) = %s; want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzAppendJSONString checks that whatever the input, the output is one
// valid JSON string that decodes as encoding/json's own encoding does.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff\xfe", "\u2028", "\\u0041", "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString(nil, s)
		var got, want string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("appendJSONString(%q) = %s, not a JSON string: %v", s, out, err)
		}
		std, _ := json.Marshal(s)
		json.Unmarshal(std, &want)
		if got != want {
			t.Fatalf("appendJSONString(%q) decodes to %q; encoding/json gives %q", s, got, want)
		}
	})
}

func TestAppendTimestamp(t *testing.T) {
	t.Parallel()
	sec := time.Date(2025, 7, 17, 1, 20, 1, 0, time.UTC).Unix()
	for _, tc := range []struct {
		nsec   int32
		digits int
		want   string
	}{
		{0, 0, `"2025-07-17T01:20:01Z"`},
		{120000000, 3, `"2025-07-17T01:20:01.120Z"`}, // trailing zero kept
		{592281456, 9, `"2025-07-17T01:20:01.592281456Z"`},
		{5, 9, `"2025-07-17T01:20:01.000000005Z"`},
		{truncNanos(987654321, 1), 1, `"2025-07-17T01:20:01.9Z"`},
	} {
		got := string(appendTimestamp(nil, sec, tc.nsec, tc.digits))
		if got != tc.want {
			t.Errorf("appendTimestamp(%d, %d) = %s; want %s", tc.nsec, tc.digits, got, tc.want)
		}
		parsed, err := time.Parse(time.RFC3339Nano, strings.Trim(got, `"`))
		if err != nil || !parsed.Equal(time.Unix(sec, int64(tc.nsec))) {
			t.Errorf("time.Parse(%s) = %v, %v; want the same instant", got, parsed, err)
		}
	}
}

func TestAppendUUIDv4(t *testing.T) {
	t.Parallel()
	for _, in := range [][2]uint64{{0, 0}, {^uint64(0), ^uint64(0)}, {0x0123456789abcdef, 0xfedcba9876543210}} {
		q := string(appendUUIDv4(nil, in[0], in[1]))
		if len(q) != 38 || !isUUIDv4(q[1:37]) {
			t.Errorf("appendUUIDv4(%#x, %#x) = %s; want a quoted UUID v4", in[0], in[1], q)
		}
	}
}

// parseSeeds exercise the corners of malformed and well-formed input:
// escapes, surrogates, invalid UTF-8, numbers, nesting, duplicate keys.
var parseSeeds = []string{
	`{"a":1,"a":2}`, `[]`, `{}`, `[1,-0.5e+3,0,1E9,"x",true,false,null,{"b":[]}]`,
	`"\ud83d\ude00 \ud83d x \udc00 \u00e9 \/ \b\f\n\r\t"`, "\"\xff\xfe ok\"", "\"é\xc3\"",
	`{"a":01}`, `[1,]`, `{"a" 1}`, `{"a":tru}`, `"\x"`, `"\u12"`, `1.`, `-`, `.5`, `1e`, ` {"a" : [ 1 , 2 ] } `,
	`{"a":1}x`, "\"a\tb\"", `[[[[[[[[[[]]]]]]]]]]`, `"unterminated`, `nul`, ``, `  `, `{} {}`,
}

// parseJSON accepts exactly one JSON document, numbers as json.Number, and
// places every error at a byte offset inside the body.
func TestParseJSON(t *testing.T) {
	t.Parallel()
	inputs := append([]string(nil), parseSeeds...)
	for _, line := range fixtureLines(t, "testdata/riskos-examples.jsonl") {
		inputs = append(inputs, string(line))
	}
	g := NewGenerator(9)
	for range 300 {
		inputs = append(inputs, string(g.Random().Body))
	}
	for _, in := range inputs {
		checkParseJSON(t, []byte(in))
	}
	v, err := parseJSON([]byte(`{"n":12.50,"a":1,"a":2}`))
	if m, _ := v.(map[string]any); err != nil || m["n"] != json.Number("12.50") || m["a"] != json.Number("2") {
		t.Errorf("parseJSON = %#v, %v; want n as json.Number 12.50 and the last a", v, err)
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	if _, err := parseJSON([]byte(deep)); err == nil {
		t.Error("parseJSON accepted 20000 levels of nesting; want an error, not a stack to exhaust")
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkParseJSON(t, b) })
}

var offsetRE = regexp.MustCompile(`^malformed JSON at byte offset (\d+): `)

func checkParseJSON(t *testing.T, b []byte) {
	t.Helper()
	_, err := parseJSON(b)
	if valid := json.Valid(b); (err == nil) != valid {
		t.Fatalf("parseJSON(%q) error = %v; json.Valid = %v", b, err, valid)
	}
	if err == nil {
		return
	}
	m := offsetRE.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("parseJSON(%q) error %q names no byte offset", b, err)
	}
	if off, _ := strconv.Atoi(m[1]); off < 0 || off > len(b) {
		t.Fatalf("parseJSON(%q) error %q: offset outside the %d-byte body", b, err, len(b))
	}
}
