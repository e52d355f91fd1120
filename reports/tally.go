package reports

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hookproof/hookproof/harness"
)

// Tally prints answer counts, keyed by HTTP status ("200") or, for
// attempts without an answer, by error class ("timeout"), as
// "200×98, 503×2, timeout×1": the keys of each map sorted, the maps in the
// order given. It is "" when nothing was counted, so each caller words the
// empty case for its own output.
func Tally[V int | uint64](counts ...map[string]V) string { return tally("×", counts...) }

// TallyAttempts is Tally over attempts, keyed as DeliveryStats counts them.
func TallyAttempts(attempts []harness.Attempt) string {
	counts := map[string]int{}
	for _, a := range attempts {
		counts[AnswerKey(a)]++
	}
	return Tally(counts)
}

// AnswerKey is the key an attempt is counted under: its status, or its
// error class when it got no answer.
func AnswerKey(a harness.Attempt) string {
	if a.Status != 0 {
		return strconv.Itoa(a.Status)
	}
	if a.ErrorClass == "" {
		return string(harness.ErrOtherClass)
	}
	return string(a.ErrorClass)
}

func tally[V int | uint64](sep string, counts ...map[string]V) string {
	var parts []string
	for _, m := range counts {
		for _, k := range sortedKeys(m) {
			parts = append(parts, fmt.Sprintf("%s%s%d", k, sep, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// StatusRank orders requirement statuses for merging: the worse outcome
// (failed over passed over skipped) has the higher rank and wins.
func StatusRank(s string) int {
	switch s {
	case StatusFailed:
		return 2
	case StatusPassed:
		return 1
	}
	return 0
}
