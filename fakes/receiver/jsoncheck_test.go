package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckJSONClassifies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in            string
		malformed     bool
		hostile, huge bool
	}{
		{in: `{"a":[1,-2.5e3,true,false,null,{"b":"\u00e9\ud83d\ude00"}]}`},
		{in: "\xEF\xBB\xBF{}"},
		{in: ` [] `},
		{in: `{"a":1,}`, malformed: true},
		{in: `{"a" 1}`, malformed: true},
		{in: `[1 2]`, malformed: true},
		{in: `01`, malformed: true},
		{in: `1.`, malformed: true},
		{in: `{"a":"\x"}`, malformed: true},
		{in: "{\"a\":\"\x01\"}", malformed: true},
		{in: `{} {}`, malformed: true},
		{in: `tru`, malformed: true},
		{in: ``, malformed: true},
		{in: strings.Repeat("[", 300) + `]`, malformed: true}, // unbalanced beats hostile
		{in: strings.Repeat("[", 300) + strings.Repeat("]", 300), hostile: true},
		{in: strings.Repeat(`{"a":`, 129) + `1` + strings.Repeat("}", 129), hostile: true},
		{in: strings.Repeat(`{"a":`, 127) + `1` + strings.Repeat("}", 127)},
		{in: "\"\xC3\x28\"", hostile: true},
		{in: `"\udc00"`, hostile: true},
		{in: `"\ud800x"`, hostile: true},
		{in: `{"a":{"b":1,"b":2}}`, hostile: true},
		{in: `{"a":{"b":1},"c":{"b":2}}`},
		{in: `"` + strings.Repeat("x", hugeString+1) + `"`, huge: true},
		{in: `[` + strings.Repeat("0,", hugeArray) + `0]`, huge: true},
	} {
		res, err := checkJSON([]byte(c.in))
		name := trim(c.in)
		if got := err != nil; got != c.malformed {
			t.Errorf("checkJSON(%q) error = %v; want malformed=%v", name, err, c.malformed)
			continue
		}
		if err != nil && !errors.Is(err, errMalformed) {
			t.Errorf("checkJSON(%q) error %v does not wrap errMalformed", name, err)
		}
		if got := res.hostile != ""; got != c.hostile {
			t.Errorf("checkJSON(%q) hostile = %q; want hostile=%v", name, res.hostile, c.hostile)
		}
		if got := res.huge != ""; got != c.huge {
			t.Errorf("checkJSON(%q) huge = %q; want huge=%v", name, res.huge, c.huge)
		}
	}
}

// FuzzCheckJSON holds the scanner to encoding/json's grammar: wherever
// json.Valid can judge (it accepts invalid UTF-8 and stops at depth
// 10 000), both agree on syntax, and the scanner never panics.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"event_id":"a","data":{"x":[1,2,{"y":null}]}}`, `[`, `"\ud800"`, `{"a":1,"a":2}`, "\xEF\xBB\xBF[]", `-0.0e+1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := checkJSON(b)
		if bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) > 9000 {
			return
		}
		if want := json.Valid(bytes.TrimPrefix(b, bom)); (err == nil) != want {
			t.Fatalf("checkJSON(%q) error = %v; json.Valid = %v", b, err, want)
		}
	})
}
