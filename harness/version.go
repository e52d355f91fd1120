package harness

import (
	"runtime/debug"
	"strings"
)

// Version is hookproof's version. A release build may stamp it with
// -ldflags "-X github.com/hookproof/hookproof/harness.Version=v1.2.3";
// otherwise it is read from the build info, so that
// `go install github.com/hookproof/hookproof/cmd/hookproof@v1.2.3` reports
// v1.2.3 with no stamping at all.
var Version string

func init() {
	if Version == "" {
		bi, _ := debug.ReadBuildInfo()
		Version = VersionOf(bi)
	}
}

// VersionOf is the version string for a build: the main module's version
// followed by the VCS revision it was built from when the version does not
// already name it (a tagged release or a local build), with "-dirty" when
// the tree had uncommitted changes. "dev" when nothing is known.
func VersionOf(bi *debug.BuildInfo) string {
	if bi == nil {
		return "dev"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	// A pseudo-version (v0.0.0-20260101120000-0123456789ab) already ends
	// with the revision, and Go marks its own dirty builds "+dirty".
	if rev == "" || strings.Contains(v, rev) {
		return v
	}
	v += " (" + rev
	if dirty {
		v += "-dirty"
	}
	return v + ")"
}

// UserAgent is the User-Agent every delivery carries: the version's first
// word, since a product token cannot hold spaces.
func UserAgent() string {
	v, _, _ := strings.Cut(Version, " ")
	return "hookproof/" + v
}
