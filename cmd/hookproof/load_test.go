package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/hookproof/hookproof/fakes/receiver"
	"github.com/hookproof/hookproof/reports"
)

// startReceiver serves the reference receiver on loopback for one test.
func startReceiver(t *testing.T, faults ...receiver.Fault) *receiver.Server {
	t.Helper()
	srv, err := receiver.NewServer(receiver.Options{Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func TestLoadReportsSummaryReportAndVegetaResults(t *testing.T) {
	srv := startReceiver(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "results.bin")
	out, errOut, code := cli(t, "load", "--target", srv.WebhookURL(), "--rate", "100", "--duration", "1s",
		"--duplicate-ratio", "0.1", "--report-dir", dir, "--output", bin)
	noStackTrace(t, out, errOut)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{"Requests      100 ", "Acked         100 (100.000 %)", "LOAD-01       PASSED", "200×100"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Load
	if l == nil {
		t.Fatal("report.json has no load section")
	}
	if l.Requests != 100 || l.SuccessRatio != 1 || l.StatusCodes["200"] != 100 || l.RequestedRate != 100 {
		t.Errorf("load section = requests %d, success %g, codes %v, asked %g; want 100, 1, 200×100, 100", l.Requests, l.SuccessRatio, l.StatusCodes, l.RequestedRate)
	}
	if l.SentRate < 90 || l.SentRate > 110 || l.LatencyMS.P99 <= 0 || l.LatencyMS.P99 < l.LatencyMS.P50 || len(l.Series) == 0 || len(l.Histogram) == 0 {
		t.Errorf("load section figures not sane: sent %g/s, p50 %g p99 %g, %d series points, %d buckets", l.SentRate, l.LatencyMS.P50, l.LatencyMS.P99, len(l.Series), len(l.Histogram))
	}
	statuses := map[string]int{}
	for _, r := range rep.Requirements {
		statuses[r.Status]++
		if r.ID == "LOAD-01" && r.Status != reports.StatusPassed {
			t.Errorf("LOAD-01 = %s (%s); want passed", r.Status, r.Reason)
		}
		if r.ID != "LOAD-01" && (r.Status != reports.StatusSkipped || r.Reason != "not judged by hookproof load") {
			t.Errorf("%s = %s (%q); want skipped, not judged by hookproof load", r.ID, r.Status, r.Reason)
		}
	}
	if statuses[reports.StatusPassed] != 1 || rep.Verdict != reports.VerdictPass {
		t.Errorf("statuses %v, verdict %s; want one passed and a pass", statuses, rep.Verdict)
	}
	for _, f := range []string{"junit.xml", "summary.md", "report.html"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}

	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	var n, ok int
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("decoding result %d: %v", n, err)
			}
			break
		}
		n++
		if r.Code == 200 && r.Attack == "hookproof" {
			ok++
		}
	}
	if n != 100 || ok != 100 {
		t.Errorf("results.bin holds %d results, %d of them 200 from attack hookproof; want 100, 100", n, ok)
	}
}

func TestLoadFailsLOAD01OnLostEvents(t *testing.T) {
	srv := startReceiver(t, receiver.FaultError500)
	dir := t.TempDir()
	out, errOut, code := cli(t, "load", "--target", srv.WebhookURL(), "--rate", "100", "--duration", "1s",
		"--event-types", receiver.Error500EventType+",decision_update", "--report-dir", dir)
	noStackTrace(t, out, errOut)
	if code != exitFailed {
		t.Fatalf("exit %d; want %d\nstdout: %s\nstderr: %s", code, exitFailed, out, errOut)
	}
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Load.Lost == 0 || len(rep.Load.LostEvents) == 0 || rep.Load.StatusCodes["500"] == 0 {
		t.Errorf("load section: lost %d, %d lost events, codes %v; want the 500s counted as lost", rep.Load.Lost, len(rep.Load.LostEvents), rep.Load.StatusCodes)
	}
	if rep.Verdict != reports.VerdictFail {
		t.Errorf("verdict %s; want fail", rep.Verdict)
	}
}

func TestLoadRefusesBadInputWithUsageError(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"remote target", []string{"--target", "http://192.0.2.1/hook"}, []string{"--target", "loopback only"}},
		{"bad spike", []string{"--target", "http://127.0.0.1:9/h", "--spike", "10@5s"}, []string{"--spike", "FACTOR@AT+FOR"}},
		{"bad shard", []string{"--target", "http://127.0.0.1:9/h", "--shard", "4/4"}, []string{"--shard"}},
		{"bad ratio", []string{"--target", "http://127.0.0.1:9/h", "--duplicate-ratio", "1"}, []string{"duplicate_ratio"}},
		{"no target", []string{"--rate", "5"}, []string{"--target"}},
		{"bad transport", []string{"--target", "http://127.0.0.1:9/h", "--transport", "h2"}, []string{"--transport", "fast or net/http"}},
		{"bad run id", []string{"--target", "http://127.0.0.1:9/h", "--run-id", "a\nb"}, []string{"--run-id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cli(t, append([]string{"load", "--duration", "1s"}, tc.args...)...)
			noStackTrace(t, out, errOut)
			if code != exitUsage {
				t.Fatalf("exit %d; want %d\nstderr: %s", code, exitUsage, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestLoadInterruptedWritesPartialReport cancels the context (as SIGINT
// does) once the receiver has processed five events, so the cancel is
// tied to real traffic rather than to a sleep.
func TestLoadInterruptedWritesPartialReport(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrived := make(chan struct{}, 1)
	var processed atomic.Int32
	srv, err := receiver.NewServer(receiver.Options{Work: func(context.Context, receiver.Event) {
		// At 50/s the fifth event comes 80 ms after the first, whose ack
		// has long been read by then: the partial run has results.
		if processed.Add(1) == 5 {
			arrived <- struct{}{}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	go func() {
		<-arrived
		cancel()
	}()
	dir := t.TempDir()
	out, errOut, code := cliCtx(ctx, t, "load", "--target", srv.WebhookURL(), "--rate", "50", "--duration", "30s", "--report-dir", dir)
	noStackTrace(t, out, errOut)
	if code != exitInterrupted {
		t.Fatalf("exit %d; want %d\nstdout: %s\nstderr: %s", code, exitInterrupted, out, errOut)
	}
	rep, err := reports.Read(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("partial report: %v", err)
	}
	if !rep.Interrupted || rep.Verdict == reports.VerdictPass || rep.Load == nil || rep.Load.Requests == 0 || rep.Load.Requests >= 1500 {
		t.Errorf("partial report: interrupted %v, verdict %s, load %+v; want an interrupted, non-passing report of part of the run", rep.Interrupted, rep.Verdict, rep.Load)
	}
}

// --transport net/http rules the fast transport out, and the output says
// which one sent the load, on the terminal and in report.json.
func TestLoadTransportIsChosenAndReported(t *testing.T) {
	srv := startReceiver(t)
	for _, transport := range []string{"fast", "net/http"} {
		t.Run(transport, func(t *testing.T) {
			dir := t.TempDir()
			out, errOut, code := cli(t, "load", "--target", srv.WebhookURL(), "--rate", "100", "--duration", "1s",
				"--transport", transport, "--run-id", "ci-42", "--report-dir", dir)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "transport "+transport) || !strings.Contains(out, "Run           ci-42, shard 0/1, transport "+transport) {
				t.Errorf("output does not say transport %s ran:\n%s%s", transport, errOut, out)
			}
			r, err := reports.Read(filepath.Join(dir, reports.FileJSON))
			if err != nil {
				t.Fatal(err)
			}
			if l := r.Load; l.Transport != transport || l.RunID != "ci-42" || l.BytesOut == 0 || l.LatencyFrom != reports.LatencyFromSchedule {
				t.Errorf("load section: transport %q, run %q, %d bytes out, latency from %q; want %s, ci-42, > 0, the schedule", l.Transport, l.RunID, l.BytesOut, l.LatencyFrom, transport)
			}
		})
	}
}

// The results file is shared like a report: a credential in the target URL
// must not reach it, in any of the results vegeta records.
func TestLoadResultsFileNeverHoldsTheTargetsCredential(t *testing.T) {
	const secret = "q-secret-7f3a9c21"
	srv := startReceiver(t)
	bin := filepath.Join(t.TempDir(), "results.bin")
	out, errOut, code := cli(t, "load", "--target", srv.WebhookURL()+"?api_key="+secret, "--rate", "50", "--duration", "400ms", "--output", bin)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	dec := vegeta.NewDecoder(strings.NewReader(string(b)))
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		n++
	}
	if n == 0 {
		t.Fatal("no result in the file")
	}
	if strings.Contains(string(b), secret) || strings.Contains(out+errOut, secret) {
		t.Errorf("the credential in the target URL reached the results file or the output (%d results)", n)
	}
}
