package harness

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "dev"},
		{"go install @tag", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"local build without VCS", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"local build with VCS", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", rev, "vcs.modified", "false")}, "dev (0123456789ab)"},
		{"dirty tree", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", rev, "vcs.modified", "true")}, "dev (0123456789ab-dirty)"},
		{"tag with VCS", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: settings("vcs.revision", rev)}, "v1.2.3 (0123456789ab)"},
		{"pseudo-version names its revision", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101120000-0123456789ab+dirty"}, Settings: settings("vcs.revision", rev, "vcs.modified", "true")}, "v0.0.0-20260101120000-0123456789ab+dirty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VersionOf(tc.bi); got != tc.want {
				t.Errorf("VersionOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUserAgentIsOneToken(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	Version = "v1.2.3 (0123456789ab)"
	if got := UserAgent(); got != "hookproof/v1.2.3" {
		t.Errorf("UserAgent = %q, want hookproof/v1.2.3", got)
	}
}
