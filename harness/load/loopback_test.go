package load

import "testing"

func TestIsLoopback(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080/hook", true},
		{"https://127.9.9.9/hook", true}, // all of 127/8
		{"http://[::1]:9/x", true},
		{"http://localhost/x", true},
		{"https://receiver.example.com/hook", false}, // names are not resolved: a name may point anywhere
		{"http://10.0.0.1/x", false},
		{"http://vm:8080/x", false},
		{"::not a url", false},
	} {
		if got := IsLoopback(tc.url); got != tc.want {
			t.Errorf("IsLoopback(%q) = %v; want %v", tc.url, got, tc.want)
		}
	}
}
