package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "s3cr3t-value-42"
	s := Secret(value)
	type holder struct {
		Token Secret `json:"token"`
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", s, "h", holder{s})
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "token", s)
	j, err := json.Marshal(holder{s})
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, holder{s}, holder{s}, s, s),
		string(j), logs.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, value) {
			t.Errorf("secret leaked in %q", out)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q; want %q", s.Reveal(), value)
	}
}
