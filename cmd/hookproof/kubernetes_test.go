package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/hookproof/hookproof/harness/load"
	"github.com/hookproof/hookproof/reports"
)

const manifestDir = "../../deploy/kubernetes"

// manifests are the decoded objects of deploy/kubernetes, by name.
type manifests struct {
	jobs map[string]*batchv1.Job
	pvcs map[string]*corev1.PersistentVolumeClaim
}

// readManifests decodes every document strictly into its k8s.io/api type:
// a misspelt or misplaced field is an error, as kubectl's server-side
// validation would make it.
func readManifests(t *testing.T) manifests {
	t.Helper()
	m := manifests{jobs: map[string]*batchv1.Job{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	files, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", manifestDir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			var name string
			switch head.APIVersion + " " + head.Kind {
			case "batch/v1 Job":
				j := decodeStrict[batchv1.Job](t, f, doc)
				name, m.jobs[j.Name] = j.Name, j
			case "v1 PersistentVolumeClaim":
				p := decodeStrict[corev1.PersistentVolumeClaim](t, f, doc)
				name, m.pvcs[p.Name] = p.Name, p
			default:
				t.Fatalf("%s document %d: unexpected %s %s", f, i, head.APIVersion, head.Kind)
			}
			if name == "" {
				t.Errorf("%s document %d: no metadata.name", f, i)
			}
		}
	}
	return m
}

// decodeStrict decodes one manifest document into T, unknown fields being
// errors.
func decodeStrict[T any](t *testing.T, file, doc string) *T {
	t.Helper()
	var v T
	if err := yaml.UnmarshalStrict([]byte(doc), &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &v
}

// expand substitutes $(VAR) references as the kubelet does in args; an
// unknown reference stays as written.
func expand(args []string, env map[string]string) []string {
	re := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = re.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := env[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	return out
}

// commandLine is the container's argv after the image's hookproof
// entrypoint.
func commandLine(t *testing.T, c corev1.Container) []string {
	t.Helper()
	switch {
	case len(c.Command) == 0:
		return c.Args
	case len(c.Command) == 1 && filepath.Base(c.Command[0]) == "hookproof":
		return c.Args
	}
	t.Fatalf("container %s: command %q is not the hookproof entrypoint", c.Name, c.Command)
	return nil
}

// parseWithHookproof parses argv with hookproof's own command tree and
// flags, without running it, and returns the flag values.
func parseWithHookproof(t *testing.T, argv []string) map[string][]string {
	t.Helper()
	root := newRootCmd(io.Discard, io.Discard, func(string) string { return "" }, provenance{})
	cmd, rest, err := root.Find(argv)
	if err != nil || cmd == root {
		t.Fatalf("%q: no hookproof command: %v", argv, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("%q: %v", argv, err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Fatalf("%q: %v", argv, err)
	}
	vals := map[string][]string{}
	// Walk argv itself: repeatable flags such as --results keep every value.
	for i := 0; i < len(rest); i++ {
		name, ok := strings.CutPrefix(rest[i], "--")
		if !ok {
			continue
		}
		if n, v, ok := strings.Cut(name, "="); ok {
			vals[n] = append(vals[n], v)
			continue
		}
		f := cmd.Flags().Lookup(name)
		if f == nil {
			t.Fatalf("%q: --%s parsed but not found", argv, name)
		}
		if f.NoOptDefVal != "" {
			vals[name] = append(vals[name], f.NoOptDefVal)
			continue
		}
		i++
		vals[name] = append(vals[name], rest[i])
	}
	return vals
}

func TestKubernetesManifests(t *testing.T) {
	m := readManifests(t)
	lj, mj := m.jobs["hookproof-load"], m.jobs["hookproof-merge"]
	if lj == nil || mj == nil {
		t.Fatalf("want Jobs hookproof-load and hookproof-merge, have %v", m.jobs)
	}
	if lj.Spec.CompletionMode == nil || *lj.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Error("hookproof-load: completionMode must be Indexed (JOB_COMPLETION_INDEX picks the shard)")
	}
	if lj.Spec.Completions == nil {
		t.Fatal("hookproof-load: completions is the shard count and must be set")
	}
	n := int(*lj.Spec.Completions)
	if lj.Spec.Parallelism == nil || int(*lj.Spec.Parallelism) != n {
		t.Errorf("hookproof-load: parallelism must equal completions (%d): the shards make up one run together", n)
	}
	for _, j := range []*batchv1.Job{lj, mj} {
		if len(j.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: want one container", j.Name)
		}
		if sc := j.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: must run as non-root", j.Name)
		}
		for _, v := range j.Spec.Template.Spec.Volumes {
			if v.PersistentVolumeClaim == nil || m.pvcs[v.PersistentVolumeClaim.ClaimName] == nil {
				t.Errorf("%s: volume %s is not a claim of these manifests", j.Name, v.Name)
			}
		}
	}

	lc := lj.Spec.Template.Spec.Containers[0]
	var outputs []string
	var rate string
	for i := range n {
		vals := parseWithHookproof(t, expand(commandLine(t, lc), map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)}))
		s, err := load.ParseShard(strings.Join(vals["shard"], ""))
		if err != nil || s != (load.Shard{I: i, N: n}) {
			t.Errorf("index %d: --shard %q is not %d/%d: %v", i, vals["shard"], i, n, err)
		}
		if len(vals["output"]) != 1 {
			t.Fatalf("index %d: want one --output, have %q", i, vals["output"])
		}
		outputs = append(outputs, vals["output"][0])
		rate = strings.Join(vals["rate"], "")
	}
	if len(slices.Compact(slices.Sorted(slices.Values(outputs)))) != n {
		t.Errorf("shards write over each other: --output %q", outputs)
	}
	mvals := parseWithHookproof(t, commandLine(t, mj.Spec.Template.Spec.Containers[0]))
	if !slices.Equal(slices.Sorted(slices.Values(mvals["results"])), slices.Sorted(slices.Values(outputs))) {
		t.Errorf("merge reads --results %q, the shards write %q", mvals["results"], outputs)
	}
	if strings.Join(mvals["rate"], "") != rate {
		t.Errorf("merge --rate %q, the load's whole rate is %q", mvals["rate"], rate)
	}
	for _, c := range []corev1.Container{lc, mj.Spec.Template.Spec.Containers[0]} {
		if len(c.VolumeMounts) != 1 || !strings.HasPrefix(outputs[0], c.VolumeMounts[0].MountPath+"/") {
			t.Errorf("container %s: the results are not on its shared volume mount", c.Name)
		}
	}
}

// The manifests' command lines, run as N local processes against a
// loopback receiver with JOB_COMPLETION_INDEX set, then merged: the merged
// counts are the shards' sum, and no event_id is sent by two shards.
func TestKubernetesShardsMergeLocally(t *testing.T) {
	bin := buildHookproof(t)
	m := readManifests(t)
	lj, mj := m.jobs["hookproof-load"], m.jobs["hookproof-merge"]
	n := int(*lj.Spec.Completions)
	lc := lj.Spec.Template.Spec.Containers[0]
	mount := lc.VolumeMounts[0].MountPath
	vol := t.TempDir()
	local := func(argv []string) []string {
		out := slices.Clone(argv)
		for i, a := range out {
			if strings.HasPrefix(a, mount+"/") {
				out[i] = vol + strings.TrimPrefix(a, mount)
			}
			// A bounded run here; the manifest's own duration is for a cluster.
			if i > 0 && out[i-1] == "--duration" {
				out[i] = "2s"
			}
		}
		return out
	}

	// The merge refuses shards with different targets, so each shard gets
	// its own bearer token instead: the token tells which shard sent an
	// event_id, and results files never hold it.
	var mu sync.Mutex
	seen := map[string]map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shard, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer k8s-test-token-")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev struct {
			EventID string `json:"event_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || ev.EventID == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		if seen[shard] == nil {
			seen[shard] = map[string]int{}
		}
		seen[shard][ev.EventID]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	run := func(argv []string, env ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, argv...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		idx := strconv.Itoa(i)
		argv := local(expand(commandLine(t, lc), map[string]string{"JOB_COMPLETION_INDEX": idx}))
		wg.Go(func() {
			out, err := run(argv, "JOB_COMPLETION_INDEX="+idx, "HOOKPROOF_TARGET="+srv.URL+"/webhooks/riskos",
				"HOOKPROOF_AUTH=bearer", "HOOKPROOF_BEARER_TOKEN=k8s-test-token-"+idx)
			if err != nil {
				errs[i] = errors.New(err.Error() + "\n" + out)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("load shards: %v", err)
	}

	var sum uint64
	owner := map[string]int{}
	for i := range n {
		f, err := os.Open(filepath.Join(vol, "shard-"+strconv.Itoa(i)+".gob"))
		if err != nil {
			t.Fatal(err)
		}
		var count uint64
		dec := vegeta.DecoderFor(f)
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("shard %d results: %v", i, err)
			}
			count++
			if want := (load.Shard{I: i, N: n}).AttackName(); r.Attack != want {
				t.Errorf("shard %d result of attack %q, want %q", i, r.Attack, want)
			}
		}
		f.Close()
		ids := seen[strconv.Itoa(i)]
		if count == 0 || uint64(len(ids)) != count {
			t.Errorf("shard %d: %d results, %d distinct event_ids received", i, count, len(ids))
		}
		for id := range ids {
			if j, dup := owner[id]; dup {
				t.Errorf("event_id %s sent by shards %d and %d", id, j, i)
			}
			owner[id] = i
		}
		sum += count
	}

	out, err := run(local(commandLine(t, mj.Spec.Template.Spec.Containers[0])))
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	mvals := parseWithHookproof(t, local(commandLine(t, mj.Spec.Template.Spec.Containers[0])))
	mergedDir := strings.Join(mvals["report-dir"], "")
	rep, err := reports.Read(filepath.Join(mergedDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Load == nil || rep.Load.Requests != sum {
		t.Fatalf("merged load section %+v, want %d requests (the shards' sum)", rep.Load, sum)
	}
	var codes uint64
	for _, c := range rep.Load.StatusCodes {
		codes += c
	}
	if codes != sum {
		t.Errorf("merged status codes add up to %d, want %d", codes, sum)
	}
	if rep.Verdict != reports.VerdictPass {
		t.Errorf("merged verdict %s: %s", rep.Verdict, rep.Headline())
	}
}
