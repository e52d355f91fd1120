package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultCommandTimeout bounds one --effects-command query.
const DefaultCommandTimeout = 10 * time.Second

// maxCommandProbes bounds the queries running at once: the load checks ask
// about many events in a row, and a fork per query must not starve the
// receiver being measured of its CPU.
const maxCommandProbes = 4

// CommandProbe runs a command per query, such as
//
//	redis-cli -p 6379 SCARD processed:{event_id}
//
// and reads the count, one non-negative integer, from its stdout. The
// command is split into words like a shell would (quotes and backslashes)
// but run without one, each {event_id} replaced inside its word, so an id
// can never add a word or an operator. With Shell set, the command line is
// given to /bin/sh -c (for pipes: docker logs … | grep -c …); the id is
// then also in $HOOKPROOF_EVENT_ID. Either way the id is checked first
// (CheckProbeEventID): it holds no character a shell or a quoted SQL
// string gives meaning to.
type CommandProbe struct {
	Command string
	Shell   bool
	Timeout time.Duration

	words  []string
	permit chan struct{}
}

// NewCommandProbe checks command; it does not run it.
func NewCommandProbe(command string, shell bool, timeout time.Duration) (*CommandProbe, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: effects.command (--effects-command): "+format, append([]any{ErrProbe}, a...)...)
	}
	if strings.TrimSpace(command) == "" {
		return nil, bad("empty command")
	}
	if !strings.Contains(command, EventIDPlaceholder) {
		return nil, bad("the command must use %s where the event_id goes", EventIDPlaceholder)
	}
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	p := &CommandProbe{Command: command, Shell: shell, Timeout: timeout, permit: make(chan struct{}, maxCommandProbes)}
	if !shell {
		words, err := SplitWords(command)
		if err != nil {
			return nil, bad("%v (or pass --effects-command-shell to run it through /bin/sh)", err)
		}
		if strings.Contains(words[0], EventIDPlaceholder) {
			return nil, bad("the event_id cannot be the program name")
		}
		p.words = words
	}
	return p, nil
}

// Describe implements Probe, with the command's credentials redacted.
func (p *CommandProbe) Describe() string {
	cmd := p.Command
	for _, s := range CommandSecrets(p.Command) {
		cmd = strings.ReplaceAll(cmd, s, Redacted)
	}
	if p.Shell {
		return fmt.Sprintf("effects command (through /bin/sh) %q", cmd)
	}
	return fmt.Sprintf("effects command %q", cmd)
}

// CommandSecrets returns the credentials a probe command line carries, so
// that output and reports never show them: the value of --password,
// --pass, --auth and -a (redis-cli), of any --NAME=VALUE whose name marks a
// credential, and the userinfo of URLs (redis://:PASS@host). Passwords are
// better passed in the environment (REDISCLI_AUTH, MYSQL_PWD), which
// hookproof never prints.
func CommandSecrets(command string) []string {
	words, err := SplitWords(command)
	if err != nil {
		words = strings.Fields(command)
	}
	var s []string
	for i, w := range words {
		switch {
		case (w == "-a" || w == "--pass" || w == "--password" || w == "--auth") && i+1 < len(words):
			s = append(s, words[i+1])
		case strings.HasPrefix(w, "--") && strings.Contains(w, "="):
			name, value, _ := strings.Cut(w[2:], "=")
			if (IsSensitiveName(name) || name == "pass") && value != "" {
				s = append(s, value)
			}
		case strings.Contains(w, "://"):
			s = append(s, urlSecrets(w)...)
		}
	}
	return slices.DeleteFunc(s, func(v string) bool { return v == "" || v == EventIDPlaceholder })
}

// Count implements Probe.
func (p *CommandProbe) Count(ctx context.Context, eventID string) (int, error) {
	if err := CheckProbeEventID(eventID); err != nil {
		return 0, err
	}
	select {
	case p.permit <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-p.permit }()
	qctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	var c *exec.Cmd
	if p.Shell {
		c = exec.CommandContext(qctx, "/bin/sh", "-c", strings.ReplaceAll(p.Command, EventIDPlaceholder, eventID))
	} else {
		args := make([]string, len(p.words))
		for i, w := range p.words {
			args[i] = strings.ReplaceAll(w, EventIDPlaceholder, eventID)
		}
		c = exec.CommandContext(qctx, args[0], args[1:]...)
	}
	c.Env = append(os.Environ(), "HOOKPROOF_EVENT_ID="+eventID)
	ownGroup(c)
	c.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &limited{w: &stdout, n: maxProbeBody}, &limited{w: &stderr, n: maxProbeBody}
	err := c.Run()
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	why := func() string {
		if s := strings.TrimSpace(stderr.String()); s != "" {
			return "; stderr: " + excerpt(s)
		}
		return ""
	}
	if qctx.Err() != nil {
		return 0, fmt.Errorf("%w: %s did not finish within %s%s", ErrProbe, p.Describe(), p.Timeout, why())
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return 0, fmt.Errorf("%w: %s for %s: %s%s", ErrProbe, p.Describe(), eventID, ee.ProcessState, why())
		}
		return 0, fmt.Errorf("%w: %s: %w", ErrProbe, p.Describe(), err)
	}
	out := strings.TrimSpace(stdout.String())
	n, perr := strconv.Atoi(out)
	if perr != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s for %s printed %q, not one non-negative integer%s", ErrProbe, p.Describe(), eventID, excerpt(out), why())
	}
	return n, nil
}

// limited keeps the first n bytes written and discards the rest, so a
// chatty command cannot grow memory without bound.
type limited struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (l *limited) Write(b []byte) (int, error) {
	if l.n > 0 {
		k := min(len(b), l.n)
		_, _ = l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}

// SplitWords splits a command line into words the way a POSIX shell does
// for quoting alone: blanks separate words, '…' is literal, "…" is literal
// but for \" \\ \$ \`, and a backslash outside quotes escapes the next
// character. Operators (| ; & < > $ `) are refused outside quotes rather
// than passed on as text: a command that needs them needs a shell.
func SplitWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated \" quote")
			}
			in = true
		case c == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			in = true
		case strings.IndexByte("|;&<>$`()", c) >= 0:
			return nil, fmt.Errorf("%q outside quotes is shell syntax", string(c))
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("empty command")
	}
	return words, nil
}
