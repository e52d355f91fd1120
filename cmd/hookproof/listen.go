package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookproof/hookproof/fakes/capture"
	"github.com/hookproof/hookproof/harness"
)

func newListenCmd() *cobra.Command {
	var addr, save string
	cmd := &cobra.Command{
		Use:   "listen --listen ADDR",
		Short: "Capture server: print and validate every delivery it receives",
		Long: `listen acknowledges every request with 200 and prints it (method, path,
headers with credentials redacted, body), then validates the body against the
RiskOS event catalogue and says which field breaks which schema rule.
--save appends each valid event as one JSON line, for hookproof replay.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListen(cmd.Context(), addr, save, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&addr, "listen", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&save, "save", "", "append captured events to this JSON-lines file")
	return cmd
}

func runListen(ctx context.Context, addr, save string, stdout, stderr io.Writer) error {
	var saveFile *os.File
	if save != "" {
		f, err := os.OpenFile(save, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return usageErr(fmt.Errorf("--save: %w", err))
		}
		defer f.Close()
		saveFile = f
	}
	var mu sync.Mutex // one capture's lines stay together
	srv, err := capture.NewUnstartedServer(capture.Options{OnCapture: func(c capture.Capture) {
		mu.Lock()
		defer mu.Unlock()
		printCapture(stdout, c)
		if saveFile != nil && c.Invalid == nil {
			saveFile.Write(append(compactJSON(c.Body), '\n'))
		}
	}})
	if err != nil {
		return err
	}
	srv.Addr = addr
	if err := srv.Start(); err != nil {
		return usageErr(fmt.Errorf("--listen: %w", err))
	}
	// Printed once bound, so --listen 127.0.0.1:0 says which port it got.
	fmt.Fprintf(stderr, "hookproof listen: capturing on %s (Ctrl-C to stop)\n", srv.URL)
	<-ctx.Done()
	srv.Close() // waits for in-flight deliveries, a few seconds at most
	n := len(srv.Captures())
	fmt.Fprintf(stderr, "hookproof listen: %d deliveries captured\n", n)
	return nil
}

func printCapture(w io.Writer, c capture.Capture) {
	target := c.Path
	if c.Query != "" {
		target += "?" + c.Query
	}
	// A credential may ride in the query (?access_token=…) as well as in
	// the headers capture already redacted; JWTs anywhere else go when the
	// run's Redactor scrubs the writer.
	target = harness.RedactURL(target)
	fmt.Fprintf(w, "── %s %s %s\n", c.Time.Format(time.RFC3339Nano), c.Method, target)
	for _, name := range harness.SortedHeaderNames(c.Header) {
		fmt.Fprintf(w, "   %s: %s\n", name, c.Header[name])
	}
	body := string(c.Body)
	if len(body) > 4096 {
		body = body[:4096] + fmt.Sprintf("… (%d bytes)", len(c.Body))
	}
	fmt.Fprintf(w, "   %s\n", strings.ReplaceAll(body, "\n", "\n   "))
	var se *harness.SchemaError
	switch {
	case c.Invalid == nil:
		fmt.Fprintln(w, "   ✓ valid RiskOS event")
	case errors.As(c.Invalid, &se):
		fmt.Fprintf(w, "   ✗ invalid: %d problem(s)\n", len(se.Problems))
		for _, p := range se.Problems {
			fmt.Fprintf(w, "     %s: %s (%s)\n", orRoot(p.Path), p.Message, p.Rule)
		}
	default:
		fmt.Fprintf(w, "   ✗ invalid: %v\n", c.Invalid)
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(body)"
	}
	return p
}

func compactJSON(b []byte) []byte {
	var v json.RawMessage = b
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}
