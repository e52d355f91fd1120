package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/hookproof/hookproof/harness"
)

// binder registers flags that write straight into a harness.Config, each
// with the field's default as the flag's default, so help prints the real
// default and the flag (set from the command line, HOOKPROOF_* or the config
// file: see sources.go) is the only way a value reaches the Config.
type binder struct {
	fs  *pflag.FlagSet
	cfg *harness.Config
}

func newBinder(fs *pflag.FlagSet, defaults harness.Config) *binder {
	return &binder{fs: fs, cfg: &defaults}
}

// config returns the Config the flags built. Every value was parsed when
// its flag was set, so nothing can fail here; commands validate what they
// need once, reporting every problem together.
func (b *binder) config() harness.Config { return *b.cfg }

func (b *binder) str(p *string, name, usage string) { b.fs.StringVar(p, name, *p, usage) }
func (b *binder) boolean(p *bool, name, usage string) {
	b.fs.BoolVar(p, name, *p, usage)
}
func (b *binder) float(p *float64, name, usage string) { b.fs.Float64Var(p, name, *p, usage) }
func (b *binder) int64v(p *int64, name, usage string)  { b.fs.Int64Var(p, name, *p, usage) }
func (b *binder) duration(p *time.Duration, name, usage string) {
	b.fs.DurationVar(p, name, *p, usage)
}

// secret registers a secret flag; its value may be @FILE so it stays out of
// process listings and shell history.
func (b *binder) secret(p *harness.Secret, name, usage string) {
	b.fs.Var(&secretValue{dst: p, name: name}, name, usage+" (or @FILE to read it from a file)")
}

// list registers a flag whose every value is split at any rune of seps and
// appended, so "--event-types a,b", a repeated flag and a YAML sequence
// all mean the same.
func (b *binder) list(p *[]string, name, seps, usage string) {
	b.fs.Var(&sliceValue[string]{dst: p, typ: "strings", parse: func(v string) ([]string, error) {
		return strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(seps, r) }), nil
	}, format: func(s string) string { return s }}, name, usage)
}

// secretValue is a flag holding a harness.Secret. String never reveals it:
// pflag and the example generator print flag values.
type secretValue struct {
	dst  *harness.Secret
	name string // the flag's, for errors about its @FILE
}

func (s *secretValue) Set(v string) error {
	sec, err := readSecret("--"+s.name, v)
	if err != nil {
		return err
	}
	*s.dst = sec
	return nil
}

func (s *secretValue) String() string {
	if s.dst == nil || !s.dst.IsSet() {
		return ""
	}
	return harness.Redacted
}

func (s *secretValue) Type() string { return "string" }

// sliceValue is a repeatable flag of parsed values. The first Set replaces
// the default and later ones append, as pflag's own slices do.
type sliceValue[T any] struct {
	dst     *[]T
	typ     string
	parse   func(string) ([]T, error)
	format  func(T) string
	changed bool
}

func (s *sliceValue[T]) Set(v string) error {
	items, err := s.parse(v)
	if err != nil {
		return err
	}
	if !s.changed {
		*s.dst = nil
		s.changed = true
	}
	*s.dst = append(*s.dst, items...)
	return nil
}

func (s *sliceValue[T]) String() string { return "[" + strings.Join(s.GetSlice(), ",") + "]" }
func (s *sliceValue[T]) Type() string   { return s.typ }

func (s *sliceValue[T]) GetSlice() []string {
	out := make([]string, 0, len(*s.dst))
	for _, v := range *s.dst {
		out = append(out, s.format(v))
	}
	return out
}

func (s *sliceValue[T]) Append(v string) error {
	items, err := s.parse(v)
	*s.dst = append(*s.dst, items...)
	return err
}

func (s *sliceValue[T]) Replace(vs []string) error {
	*s.dst = nil
	for _, v := range vs {
		if err := s.Append(v); err != nil {
			return err
		}
	}
	return nil
}

// funcValue is a flag whose text is mapped onto a field by set and read
// back by get, for fields whose type is not a pflag type.
type funcValue struct {
	typ string
	set func(string) error
	get func() string
}

func (f funcValue) Set(v string) error { return f.set(v) }
func (f funcValue) String() string {
	if f.get == nil {
		return ""
	}
	return f.get()
}
func (f funcValue) Type() string { return f.typ }

// readSecret returns v, or with v = @FILE the content of FILE without its
// trailing line break. FILE may be a regular file or a pipe (a shell's
// <(command)), of at most maxSecretFileBytes; a device such as /dev/zero
// is refused before anything is read.
func readSecret(flag, v string) (harness.Secret, error) {
	path, ok := strings.CutPrefix(v, "@")
	if !ok {
		return harness.Secret(v), nil
	}
	f, err := os.Open(path)
	if err != nil {
		// The path is not a secret; the error from os names it.
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	if m := fi.Mode(); !m.IsRegular() && m&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return "", fmt.Errorf("secret file %s: not a regular file or a pipe", path)
	}
	if fi.Mode().IsRegular() && fi.Size() > maxSecretFileBytes {
		return "", tooLarge(flag, path, maxSecretFileBytes)
	}
	b, err := io.ReadAll(capReader(f, flag, path, maxSecretFileBytes))
	if err != nil {
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	return harness.Secret(strings.TrimRight(string(b), "\r\n")), nil
}

// envName is the HOOKPROOF_* variable that stands in for a flag.
func envName(flag string) string {
	return "HOOKPROOF_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// configFlags are the flags every command that talks to a target shares.
type configFlags struct {
	*binder
}

// targetFlags registers --target, the auth flags, --header, the TLS flags
// and the transport timeouts over defaults (harness.DefaultConfig, or the
// command's own variant of it).
func targetFlags(cmd *cobra.Command, defaults harness.Config) *configFlags {
	cf := &configFlags{binder: newBinder(cmd.Flags(), defaults)}
	c := cf.cfg
	cf.str(&c.Target, "target", "receiver URL to deliver to")
	authFlags(cf.binder)
	cf.fs.Var(&sliceValue[harness.Header]{dst: &c.Headers, typ: "stringArray",
		parse: func(v string) ([]harness.Header, error) {
			h, err := harness.ParseHeader(v)
			if err != nil {
				return nil, err
			}
			return []harness.Header{h}, nil
		},
		// The value may be a credential: the flag shows names only.
		format: func(h harness.Header) string { return h.Name + ": …" },
	}, "header", "static header 'Name: value' sent with every delivery (repeatable)")
	cf.str(&c.TLS.CACert, "ca-cert", "PEM file of CAs to trust for https targets")
	cf.str(&c.TLS.ClientCert, "client-cert", "PEM client certificate for mTLS")
	cf.str(&c.TLS.ClientKey, "client-key", "PEM client key for mTLS")
	cf.boolean(&c.TLS.InsecureSkipVerify, "insecure-skip-verify", "do not verify the target's certificate (shown loudly in reports)")
	cf.duration(&c.Timeouts.Attempt, "timeout", "per-attempt delivery timeout, end to end")
	cf.duration(&c.Timeouts.Dial, "dial-timeout", "bound on opening a connection to the target")
	cf.duration(&c.Timeouts.TLSHandshake, "tls-handshake-timeout", "bound on the TLS handshake with the target")
	cf.duration(&c.Timeouts.ResponseHeader, "response-header-timeout", "bound on waiting for the target's response headers")
	return cf
}

// timeScale registers --time-scale, which compresses the RiskOS retry waits
// for every command that runs the retry loop.
func (cf *configFlags) timeScale(usage string) {
	cf.float(&cf.cfg.Retry.TimeScale, "time-scale", usage)
}

// authFlags registers the auth flags every sender and the receiver share.
func authFlags(b *binder) {
	a := &b.cfg.Auth
	b.fs.Var(funcValue{typ: "string",
		set: func(v string) error { a.Type = harness.AuthType(strings.ToLower(v)); return nil },
		get: func() string { return string(a.Type) },
	}, "auth", "auth type: none, basic, bearer or oauth2")
	b.str(&a.BasicUser, "basic-user", "Basic auth user name")
	b.secret(&a.BasicPassword, "basic-password", "Basic auth password")
	b.secret(&a.BearerToken, "bearer-token", "Bearer token")
	b.str(&a.OAuth2.TokenURL, "oauth2-token-url", "OAuth2 token URL (client-credentials grant)")
	b.str(&a.OAuth2.ClientID, "oauth2-client-id", "OAuth2 client id")
	b.secret(&a.OAuth2.ClientSecret, "oauth2-client-secret", "OAuth2 client secret")
	b.list(&a.OAuth2.Scopes, "oauth2-scope", " ,", "OAuth2 scopes, space or comma separated")
	b.str(&a.OAuth2.AuthStyle, "oauth2-auth-style", "how client credentials reach the token URL: auto, header or body")
}

// isRepeatable reports whether a flag takes several values (a YAML
// sequence, or one HOOKPROOF_* value per line).
func isRepeatable(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok
}

// yamlDefault renders a flag's default as a YAML value for the example file.
func yamlDefault(f *pflag.Flag) string {
	if isRepeatable(f) {
		vs := f.Value.(pflag.SliceValue).GetSlice()
		if len(vs) == 0 || f.DefValue == "[]" {
			return "[]"
		}
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = strconv.Quote(v)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	switch f.Value.Type() {
	case "bool", "int", "int64", "uint64", "float64", "duration":
		return f.DefValue
	}
	if f.DefValue == "" {
		return `""`
	}
	b, err := yaml.Marshal(f.DefValue)
	if err != nil {
		return strconv.Quote(f.DefValue)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// Where flag values come from besides the command line. Every flag of every
// configurable command is also a key of the config file (the flag's name)
// and a HOOKPROOF_* variable (envName); the command line wins over the
// environment, which wins over the file. Values from all three go through
// the flag's own Value.Set, so they are parsed and checked by the same code,
// and a flag set from any of them counts as given (Flag.Changed).
//
// A config file is shared between commands (certify and load read the same
// hookproof.yaml), so a top-level key is accepted when any command defines
// that flag and applies to every command that has it. A mapping under a
// command's name is a section for that command and its subcommands only
// (`load: {rate: 100}`, `report: {merge: {format: md}}`); the deepest
// section wins. Keys no command defines, and keys a section's commands do
// not define, are errors naming the key and its line.

// configAnnotation marks the commands whose flags the environment and the
// config file may set: those hookproof registers, minus init (which must be
// able to overwrite a broken config file) and cobra's own help and
// completion.
const configAnnotation = "hookproof/config"

func markConfigurable(c *cobra.Command) {
	if _, skip := c.Annotations[noConfigAnnotation]; skip {
		return
	}
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[configAnnotation] = "true"
	for _, sub := range c.Commands() {
		markConfigurable(sub)
	}
}

// noConfigAnnotation keeps a command out of the config file's reach.
const noConfigAnnotation = "hookproof/no-config"

func configurable(c *cobra.Command) bool { return c.Annotations[configAnnotation] != "" }

// settable reports whether a flag is one of the command's own settings:
// cobra's help and version flags, --config itself and hidden tuning flags
// are not.
func settable(f *pflag.Flag) bool {
	switch f.Name {
	case "help", "version", "config":
		return false
	}
	return !f.Hidden
}

// configCommands returns c and every configurable command below it, in
// command order.
func configCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	if !configurable(c) {
		return nil
	}
	out = append(out, c)
	for _, sub := range c.Commands() {
		out = append(out, configCommands(sub)...)
	}
	return out
}

// settableFlags returns c's own settable flags, sorted by name.
func settableFlags(c *cobra.Command) []*pflag.Flag {
	var out []*pflag.Flag
	c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		if settable(f) {
			out = append(out, f)
		}
	})
	return out
}

// fileValue is one flag's value in the config file.
type fileValue struct {
	key   string // as the user wrote it, with its section: "load.rate"
	line  int
	items []string
	seq   bool
}

// fileSection is the config file's settings at one command level.
type fileSection struct {
	values map[string]fileValue
	subs   map[string]*fileSection
}

// lookup returns the value of flag name for the command at path, the
// deepest section winning.
func (s *fileSection) lookup(path []string, name string) (fileValue, bool) {
	if s == nil {
		return fileValue{}, false
	}
	if len(path) > 0 {
		if v, ok := s.subs[path[0]].lookup(path[1:], name); ok {
			return v, true
		}
	}
	v, ok := s.values[name]
	return v, ok
}

// configFile names the config file in effect: --config, HOOKPROOF_CONFIG,
// or ./hookproof.yaml if it exists; "" for none.
func configFile(fs *pflag.FlagSet, getenv func(string) string) string {
	if f := fs.Lookup("config"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	if p := getenv("HOOKPROOF_CONFIG"); p != "" {
		return p
	}
	if _, err := os.Stat("hookproof.yaml"); err == nil {
		return "hookproof.yaml"
	}
	return ""
}

// parseConfig parses a config file against the commands under root,
// reporting every unknown key and malformed value together. name labels
// the errors.
func parseConfig(name string, data []byte, root *cobra.Command) (*fileSection, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &fileSection{}, nil
		}
		return nil, yamlErr(name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		line := next.Line
		if err != nil {
			return nil, yamlErr(name, err)
		}
		return nil, fmt.Errorf("%s:%d: a second YAML document: a config file holds one", name, line)
	}
	if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
		return &fileSection{}, nil
	}
	var errs []error
	s := parseSection(name, doc.Content[0], root, "", &errs)
	return s, errors.Join(errs...)
}

// yamlErr puts the parser's "yaml: line N: ..." in the FILE:N: form of the
// other config errors.
func yamlErr(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if _, convErr := strconv.Atoi(n); convErr == nil {
				return fmt.Errorf("%s:%s: %s", name, n, after)
			}
		}
	}
	return fmt.Errorf("%s: %s", name, msg)
}

func parseSection(name string, n *yaml.Node, c *cobra.Command, prefix string, errs *[]error) *fileSection {
	fail := func(n *yaml.Node, format string, args ...any) {
		*errs = append(*errs, fmt.Errorf("%s:%d: %s", name, n.Line, fmt.Sprintf(format, args...)))
	}
	where := "the top level"
	if prefix != "" {
		where = "section " + strings.TrimSuffix(prefix, ".")
	}
	if n.Kind != yaml.MappingNode {
		fail(n, "%s must be a mapping of flag names to values", where)
		return nil
	}
	known := map[string]bool{}
	for _, cc := range configCommands(c) {
		for _, f := range settableFlags(cc) {
			known[f.Name] = true
		}
	}
	s := &fileSection{values: map[string]fileValue{}, subs: map[string]*fileSection{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if k.Kind != yaml.ScalarNode {
			fail(k, "%s: keys are flag names", where)
			continue
		}
		if v.Kind == yaml.MappingNode {
			if sub := subcommand(c, k.Value); sub != nil {
				s.subs[k.Value] = parseSection(name, v, sub, key+".", errs)
				continue
			}
		}
		if !known[k.Value] {
			fail(k, "unknown key %q (%s)", key, unknownHint(c, k.Value))
			continue
		}
		if _, dup := s.values[k.Value]; dup {
			fail(k, "%s: given twice", key)
			continue
		}
		fv := fileValue{key: key, line: k.Line}
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				fail(v, "%s: no value (delete the line to keep the default)", key)
				continue
			}
			fv.items = []string{v.Value}
		case yaml.SequenceNode:
			fv.seq = true
			ok := true
			for _, it := range v.Content {
				if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
					fail(it, "%s: list items must be plain values", key)
					ok = false
					break
				}
				fv.items = append(fv.items, it.Value)
			}
			if !ok {
				continue
			}
		case yaml.AliasNode:
			fail(v, "%s: YAML aliases are not supported", key)
			continue
		default:
			fail(v, "%s: a flag's value is a plain value or a list", key)
			continue
		}
		s.values[k.Value] = fv
	}
	return s
}

// commandPath is c's names below the root: ["report", "merge"].
func commandPath(c *cobra.Command) []string {
	var path []string
	for ; c.HasParent(); c = c.Parent() {
		path = append([]string{c.Name()}, path...)
	}
	return path
}

func subcommand(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name && configurable(sub) {
			return sub
		}
	}
	return nil
}

func unknownHint(c *cobra.Command, key string) string {
	if c.HasParent() {
		return "hookproof " + strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ") + " has no --" + key
	}
	return "no hookproof command has --" + key
}

// provenance records, for flags not given on the command line, where their
// value came from (a HOOKPROOF_* variable or FILE:LINE), so later errors
// about a flag can name it.
type provenance map[string]string

// resolveSources fills every settable flag of cmd not given on the command
// line from its HOOKPROOF_* variable or else the config file, reporting
// every problem together, each naming the variable or the file, line and
// key.
func resolveSources(cmd *cobra.Command, getenv func(string) string, prov provenance) error {
	fs := cmd.Flags()
	var file *fileSection
	path := configFile(fs, getenv)
	if path != "" {
		data, err := readInput("--config", path, maxConfigBytes)
		if err != nil {
			return usageErr(err)
		}
		if file, err = parseConfig(path, data, cmd.Root()); err != nil {
			return usageErr(err)
		}
	}
	cmdPath := commandPath(cmd)
	var errs []error
	set := func(f *pflag.Flag, items []string, label string) {
		for _, it := range items {
			if err := fs.Set(f.Name, it); err != nil {
				errs = append(errs, fmt.Errorf("%s: invalid value for --%s: %w", label, f.Name, flagCause(err)))
				return
			}
		}
		prov[f.Name] = label
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if !settable(f) || f.Changed {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			items := []string{v}
			if isRepeatable(f) {
				items = strings.Split(strings.TrimRight(v, "\n"), "\n")
			}
			set(f, items, envName(f.Name))
			return
		}
		fv, ok := file.lookup(cmdPath, f.Name)
		if !ok {
			return
		}
		label := fmt.Sprintf("%s:%d: %s", path, fv.line, fv.key)
		if fv.seq && !isRepeatable(f) {
			errs = append(errs, fmt.Errorf("%s: --%s takes one value, not a list", label, f.Name))
			return
		}
		set(f, fv.items, label)
	})
	return usageErr(errors.Join(errs...))
}

// flagCause strips pflag's wrapping, which quotes the value: a secret's
// value must not reach an error message.
func flagCause(err error) error {
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) && iv.Unwrap() != nil {
		return iv.Unwrap()
	}
	return err
}

// sourcedError is a usage error whose lines name, after each flag they
// mention, where that flag's value came from when it was not the command
// line: "--shard: ... (--shard from HOOKPROOF_SHARD)".
type sourcedError struct {
	err error
	msg string
}

func (e *sourcedError) Error() string { return e.msg }
func (e *sourcedError) Unwrap() error { return e.err }

func withSources(err error, prov provenance) error {
	if err == nil || len(prov) == 0 {
		return err
	}
	lines := strings.Split(err.Error(), "\n")
	changed := false
	for i, line := range lines {
		var notes []string
		for _, name := range flagMentions(line) {
			if src, ok := prov[name]; ok && !slices.Contains(notes, "--"+name+" from "+src) {
				notes = append(notes, "--"+name+" from "+src)
			}
		}
		if len(notes) > 0 {
			lines[i] = line + " (" + strings.Join(notes, "; ") + ")"
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &sourcedError{err: err, msg: strings.Join(lines, "\n")}
}

// flagMentions returns the flag names a message line mentions as --name.
func flagMentions(line string) []string {
	var names []string
	for rest := line; ; {
		i := strings.Index(rest, "--")
		if i < 0 {
			return names
		}
		rest = rest[i+2:]
		j := 0
		for j < len(rest) && (rest[j] == '-' || rest[j] >= 'a' && rest[j] <= 'z' || rest[j] >= '0' && rest[j] <= '9') {
			j++
		}
		if name := strings.TrimRight(rest[:j], "-"); name != "" {
			names = append(names, name)
		}
		rest = rest[j:]
	}
}
