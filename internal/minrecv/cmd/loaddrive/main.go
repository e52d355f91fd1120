// Command loaddrive runs harness/load's engine once against a loopback
// target and prints the summary as one JSON line with the process's peak
// RSS, for scripts/bench-load (until `hookproof load` exists). Events are
// unique, schema-valid and carry a bearer token.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/hookproof/hookproof/harness"
	"github.com/hookproof/hookproof/harness/load"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loaddrive:", err)
		os.Exit(1)
	}
}

func run() error {
	target := flag.String("target", "", "receiver URL (loopback)")
	rate := flag.Float64("rate", 0, "events/s; 0 = as fast as possible")
	duration := flag.Duration("duration", 10*time.Second, "run length")
	workers := flag.Int("workers", 0, "max workers (0 = engine default)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	cfg := harness.DefaultConfig()
	cfg.Target = *target
	cfg.Auth = harness.AuthConfig{Type: harness.AuthBearer, BearerToken: harness.Secret("tok_0123456789abcdef")}
	auth, err := harness.NewAuthorizer(cfg.Auth, nil)
	if err != nil {
		return err
	}
	e, err := load.New(cfg, load.Options{Rate: *rate, Duration: *duration, MaxWorkers: *workers, Timeout: 5 * time.Second}, auth)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := e.Run(ctx, nil)
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"requests": s.Requests, "sent_rate": s.SentRate, "throughput": s.Throughput,
		"success_ratio": s.SuccessRatio, "p50_ms": s.LatencyMS.P50, "p99_ms": s.LatencyMS.P99,
		"response_p99_ms": s.ResponseLatencyMS.P99, "max_rss_kib": ru.Maxrss,
		"cpu_s": time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(),
	})
}
