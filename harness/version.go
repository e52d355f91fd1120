package harness

// Version is hookproof's version, set at build time with
// -ldflags "-X github.com/hookproof/hookproof/harness.Version=v1.2.3".
var Version = "dev"

// UserAgent is the User-Agent every delivery carries.
func UserAgent() string { return "hookproof/" + Version }
