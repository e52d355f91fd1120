// Command lagdump reads a results file hookproof load wrote (--output) and
// prints how late the hits started against their schedule: overall, and per
// 100 ms of the schedule wherever the worst lag passed a threshold, with the
// hits in flight at the generator. It exists to read the effect of a
// receiver's latency step or stall on the attack loop, which the report's
// per-second series blurs.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/hookproof/hookproof/harness/load"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

type hit struct {
	sched, start, end time.Time
	lag, lat          time.Duration
}

func main() {
	threshold := flag.Duration("over", 5*time.Millisecond, "print the 100 ms slots whose worst lag passed this")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: lagdump [-over D] RESULTS")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *threshold); err != nil {
		fmt.Fprintln(os.Stderr, "lagdump:", err)
		os.Exit(1)
	}
}

func run(path string, over time.Duration) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open results: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var hits []hit
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("decode result %d: %w", len(hits), err)
		}
		ns, err := strconv.ParseInt(r.Headers.Get(load.ResultScheduleLag), 10, 64)
		if err != nil {
			return fmt.Errorf("result %d has no schedule lag: %w", r.Seq, err)
		}
		lag := time.Duration(ns)
		hits = append(hits, hit{sched: r.Timestamp.Add(-lag), start: r.Timestamp, end: r.Timestamp.Add(r.Latency), lag: lag, lat: r.Latency})
	}
	if len(hits) == 0 {
		return errors.New("no results")
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.sched.Compare(b.sched) })
	origin := hits[0].sched
	lags := make([]time.Duration, len(hits))
	for i, h := range hits {
		lags[i] = h.lag
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration { return lags[min(len(lags)-1, int(p*float64(len(lags))))] }
	peak, bySlot := inFlight(hits, origin)
	fmt.Printf("hits %d  lag p50 %v p99 %v p99.9 %v max %v  peak in flight at the generator %d\n",
		len(hits), q(0.5), q(0.99), q(0.999), lags[len(lags)-1], peak)

	type slot struct {
		n        int
		worst    time.Duration
		sumLag   time.Duration
		worstLat time.Duration
	}
	slots := map[int]*slot{}
	last := 0
	for _, h := range hits {
		i := int(h.sched.Sub(origin) / (100 * time.Millisecond))
		s := slots[i]
		if s == nil {
			s = &slot{}
			slots[i] = s
		}
		s.n++
		s.sumLag += h.lag
		s.worst = max(s.worst, h.lag)
		s.worstLat = max(s.worstLat, h.lag+h.lat)
		last = max(last, i)
	}
	for i := 0; i <= last; i++ {
		s := slots[i]
		if s == nil || s.worst < over {
			continue
		}
		fmt.Printf("  t=%5.1fs  hits %4d  lag mean %8v worst %8v  worst from schedule %8v  in flight %d\n",
			float64(i)/10, s.n, (s.sumLag / time.Duration(s.n)).Round(time.Microsecond), s.worst.Round(time.Microsecond), s.worstLat.Round(time.Microsecond), bySlot[i])
	}
	return nil
}

// inFlight is the most hits between their send and their answer at one
// instant, as the generator saw them, overall and per 100 ms from origin.
func inFlight(hits []hit, origin time.Time) (int, map[int]int) {
	type edge struct {
		at time.Time
		d  int
	}
	edges := make([]edge, 0, 2*len(hits))
	for _, h := range hits {
		edges = append(edges, edge{h.start, 1}, edge{h.end, -1})
	}
	// An answer that ends when another send starts leaves before it comes.
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.d - b.d
	})
	cur, peak := 0, 0
	bySlot := map[int]int{}
	for _, e := range edges {
		cur += e.d
		peak = max(peak, cur)
		i := int(e.at.Sub(origin) / (100 * time.Millisecond))
		bySlot[i] = max(bySlot[i], cur)
	}
	return peak, bySlot
}
