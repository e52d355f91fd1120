package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/fakes/riskos"
	"github.com/hookproof/hookproof/harness"
)

// Bounds on a replay file. A RiskOS body is a few KiB; a longer line is a
// wrong file (a log, a binary), and reading it whole would only fill memory.
const (
	maxReplayLine   = 1 << 20
	maxReplayEvents = 100_000
	// maxReplayBytes bounds the events held in memory (the file is read
	// whole before anything is sent, so that a broken line sends nothing):
	// 100,000 RiskOS events of a few KiB fit well inside it.
	maxReplayBytes = 256 << 20
	// maxReplayDeliveries bounds events × duplicates, so a replay stays a
	// bounded run against the target.
	maxReplayDeliveries = 1_000_000
	// maxReplayErrors stops listing broken lines once the point is made.
	maxReplayErrors = 20
)

type replayOptions struct {
	from         string
	shuffle      bool
	duplicates   int
	retry        bool
	seed         int64
	strictSchema bool
}

// replayEvent is one line of a replay file, sent with its exact bytes.
type replayEvent struct {
	line      int
	offset    int64
	id, typ   string
	body      []byte
	schemaErr error // non-nil when the body breaks the RiskOS schema
}

func newReplayCmd() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay --target URL --from events.jsonl",
		Short: "Replay recorded events (JSON lines) to a receiver, byte for byte",
		Long: `replay delivers every event of a JSON-lines file (one event per line, as
hookproof listen --save writes them; "-" reads stdin) to the target with its
original event_id and exact bytes, DUPLICATES times each, optionally shuffled
and through the RiskOS retry loop. Receivers must deduplicate by event_id.

The whole file is read and checked before anything is sent: a line that is
not a JSON object, or longer than 1 MiB, stops the replay (exit 2) naming the
line and its byte offset. A schema-invalid event is a warning and is sent
anyway, unless --strict-schema.
Exit codes: 0 every delivery acknowledged; 1 some were not; 2 bad input;
3 the target refused the first connection; 130 interrupted.`,
		Args: cobra.NoArgs,
	}
	cf := targetFlags(cmd, harness.DefaultConfig())
	fs := cmd.Flags()
	fs.StringVar(&o.from, "from", "", `JSON-lines file of events to replay ("-" for stdin)`)
	fs.BoolVar(&o.shuffle, "shuffle", false, "deliver in a random order (copies included), reproducible with --seed")
	fs.IntVar(&o.duplicates, "duplicates", 1, "how many times each event is delivered (same event_id, same body)")
	fs.BoolVar(&o.retry, "retry", false, "follow the RiskOS retry policy on retryable answers")
	fs.Int64Var(&o.seed, "seed", 0, "shuffle seed (default: time-based, printed so a run can be repeated)")
	fs.BoolVar(&o.strictSchema, "strict-schema", false, "refuse to send when any event breaks the RiskOS schema")
	cf.timeScale("multiply retry waits (0.01 turns the 362 s schedule into 3.6 s)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg := cf.config()
		var errs []error
		if o.duplicates < 1 || o.duplicates > 1000 {
			errs = append(errs, fmt.Errorf("--duplicates: %d is outside 1..1000", o.duplicates))
		}
		errs = append(errs, cfg.Validate())
		var events []replayEvent
		if o.from == "" {
			errs = append(errs, errors.New(`--from: required (a JSON-lines file of events, or "-" for stdin)`))
		} else {
			var err error
			events, err = loadReplay(o.from, cmd.InOrStdin(), cmd.ErrOrStderr(), o.strictSchema)
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return usageErr(err)
		}
		if len(events)*o.duplicates > maxReplayDeliveries {
			return usageErr(fmt.Errorf("--duplicates: %d events × %d copies is more than %d deliveries", len(events), o.duplicates, maxReplayDeliveries))
		}
		if o.seed == 0 {
			o.seed = time.Now().UnixNano()
		}
		return runReplay(cmd, cfg, o, events)
	}
	return cmd
}

// loadReplay reads and checks a whole replay file, printing one warning per
// schema-invalid event to warn (or failing on them when strict).
func loadReplay(from string, stdin io.Reader, warn io.Writer, strict bool) ([]replayEvent, error) {
	name, r := from, capReader(stdin, "--from", "-", maxReplayFileBytes)
	if from == "-" {
		name = "stdin"
	} else {
		f, err := openInput("--from", from, maxReplayFileBytes)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	events, err := parseReplay(name, r)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("--from: %s holds no events", name)
	}
	var errs []error
	for _, ev := range events {
		if ev.schemaErr == nil {
			continue
		}
		if strict {
			if len(errs) == maxReplayErrors {
				errs = append(errs, errors.New("--from: more schema-invalid events not listed"))
				break
			}
			errs = append(errs, fmt.Errorf("--from: %s:%d (byte offset %d): --strict-schema: %w", name, ev.line, ev.offset, ev.schemaErr))
			continue
		}
		fmt.Fprintf(warn, "hookproof replay: warning: %s:%d: event %s breaks the RiskOS schema; sending it anyway (--strict-schema refuses)\n", name, ev.line, orNone(ev.id))
		var se *harness.SchemaError
		if errors.As(ev.schemaErr, &se) {
			for _, p := range se.Problems {
				fmt.Fprintf(warn, "  %s: %s (%s)\n", orRoot(p.Path), p.Message, p.Rule)
			}
		} else {
			fmt.Fprintf(warn, "  %v\n", ev.schemaErr)
		}
	}
	return events, errors.Join(errs...)
}

// parseReplay splits r into events, one JSON object per line; blank lines
// are skipped. Every broken line is reported (up to maxReplayErrors) with
// its 1-based line number and the byte offset of its start, so a user can
// jump to it.
func parseReplay(name string, r io.Reader) ([]replayEvent, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		events []replayEvent
		errs   []error
		off    int64
		held   int64 // bytes of event bodies kept
	)
	fail := func(line int, start int64, format string, args ...any) {
		if len(errs) < maxReplayErrors {
			errs = append(errs, fmt.Errorf("--from: %s:%d (byte offset %d): %s", name, line, start, fmt.Sprintf(format, args...)))
		} else if len(errs) == maxReplayErrors {
			errs = append(errs, fmt.Errorf("--from: %s: more broken lines not listed", name))
		}
	}
	for lineNo := 1; ; lineNo++ {
		start := off
		line, n, tooLong, err := readLine(br)
		off += int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("--from: %s:%d (byte offset %d): %w", name, lineNo, start, err)
		}
		if n == 0 && errors.Is(err, io.EOF) {
			break
		}
		if len(errs) > maxReplayErrors {
			// The point is made, and a file of nothing but broken lines
			// (a binary, a device on stdin) is not worth reading on.
			return nil, errors.Join(errs...)
		}
		switch {
		case tooLong:
			fail(lineNo, start, "line longer than %d bytes", maxReplayLine)
		case len(bytes.TrimSpace(line)) == 0:
			// blank: skipped
		default:
			ev, perr := parseReplayLine(line)
			if perr != nil {
				fail(lineNo, start, "%v", perr)
				break
			}
			if len(events) == maxReplayEvents {
				fail(lineNo, start, "more than %d events in one replay", maxReplayEvents)
				return nil, errors.Join(errs...)
			}
			if held += int64(len(ev.body)); held > maxReplayBytes {
				fail(lineNo, start, "more than %d MiB of events in one replay; split the file", maxReplayBytes>>20)
				return nil, errors.Join(errs...)
			}
			ev.line, ev.offset = lineNo, start
			events = append(events, ev)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	return events, errors.Join(errs...)
}

// readLine returns the next line without its terminator ("\n" or "\r\n"),
// the bytes it consumed, and whether the line was over maxReplayLine (its
// content is then dropped, but the line is consumed so later lines keep
// their numbers).
func readLine(br *bufio.Reader) (line []byte, n int, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			line = append(line, chunk...)
			// The terminator does not count towards the limit.
			if len(bytes.TrimRight(line, "\r\n")) > maxReplayLine {
				tooLong, line = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, n, tooLong, err
	}
}

// parseReplayLine checks that line is one JSON object and reads its envelope
// labels. The body kept is line itself, not a re-encoding: a replay must put
// the recorded bytes on the wire.
func parseReplayLine(line []byte) (replayEvent, error) {
	trimmed := bytes.TrimSpace(line)
	if trimmed[0] != '{' || !json.Valid(trimmed) {
		return replayEvent{}, errors.New("not a JSON object")
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return replayEvent{}, fmt.Errorf("not a JSON object: %w", err)
	}
	ev := replayEvent{body: bytes.Clone(line)}
	// Non-string ids are left empty; the schema check names the field.
	_ = json.Unmarshal(env["event_id"], &ev.id)
	_ = json.Unmarshal(env["event_type"], &ev.typ)
	ev.schemaErr = harness.ValidateEvent(ev.body)
	return ev, nil
}

func orNone(id string) string {
	if id == "" {
		return "(no event_id)"
	}
	return id
}

// runReplay delivers the events, printing one line per attempt and the
// same summary as send.
func runReplay(cmd *cobra.Command, cfg harness.Config, o replayOptions, events []replayEvent) error {
	ctx := cmd.Context()
	run, err := newDeliveryRun(cmd.Context(), cmd.OutOrStdout(), cfg, o.retry)
	if err != nil {
		return err
	}
	order := make([]int, 0, len(events)*o.duplicates)
	for i := range events {
		for range o.duplicates {
			order = append(order, i)
		}
	}
	msg := fmt.Sprintf("hookproof replay: %d events × %d copies to %s", len(events), o.duplicates, harness.RedactURL(cfg.Target))
	if o.shuffle {
		rng := rand.New(rand.NewPCG(uint64(o.seed), 0))
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		msg += fmt.Sprintf(", shuffled (--seed %d)", o.seed)
	}
	fmt.Fprintln(cmd.ErrOrStderr(), msg)

	for _, i := range order {
		ev := events[i]
		d := riskos.Delivery{EventID: orNone(ev.id), EventType: ev.typ, Body: ev.body, Label: "replay"}
		if err := run.deliver(ctx, d); err != nil {
			return err
		}
	}
	return run.finish()
}
