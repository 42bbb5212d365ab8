package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/sample"
)

// cronWorld is a machine for a cron test: a folder that stands for the
// root of the file system the samples name, an emulator for HubSpot, and
// the importer and a mail command on PATH.
type cronWorld struct {
	t      *testing.T
	root   string // stands for "/"
	emu    *emulator.Server
	url    string
	path   string // PATH with the importer and mail first
	export string // the nightly export, overwritten each night
	rows   []string
	header string
}

func newCronWorld(t *testing.T, bin, exportPath string) *cronWorld {
	t.Helper()
	w := &cronWorld{t: t, root: t.TempDir()}
	w.emu = emulator.New(emulator.Config{Token: "pat-cron", RateMax: -1, Seed: 61})
	seedSamplePortal(w.emu)
	srv := httptest.NewServer(w.emu)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	binDir := w.file("/usr/local/bin")
	must(t, os.MkdirAll(binDir, 0o755))
	must(t, os.Symlink(bin, filepath.Join(binDir, "importer")))
	mail := fmt.Sprintf("#!/bin/sh\ncat >> %s\n", w.file("/var/mail/sent"))
	must(t, os.WriteFile(filepath.Join(binDir, "mail"), []byte(mail), 0o755))
	w.path = binDir + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, dir := range []string{"/srv/exports", "/etc/importer", "/var/log", "/var/mail", "/data"} {
		must(t, os.MkdirAll(w.file(dir), 0o700))
	}
	must(t, os.WriteFile(w.file("/etc/importer/token"), []byte("pat-cron\n"), 0o600))
	root, _ := filepath.Abs("../..")
	mapping, err := os.ReadFile(filepath.Join(root, "samples/mapping.yaml"))
	must(t, err)
	for _, m := range []string{"/srv/exports/mapping.yaml", "/data/mapping.yaml"} {
		must(t, os.WriteFile(w.file(m), mapping, 0o600))
	}
	var all bytes.Buffer
	must(t, sample.Write(&all, 200, 61, nil))
	lines := strings.SplitAfter(strings.TrimSuffix(all.String(), "\n"), "\n")
	w.header, w.rows = lines[0], lines[1:]
	for i := range w.rows {
		w.rows[i] = strings.TrimSuffix(w.rows[i], "\n") + "\n"
	}
	w.export = w.file(exportPath)
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// file maps an absolute path of the samples into the world.
func (w *cronWorld) file(abs string) string { return filepath.Join(w.root, filepath.FromSlash(abs)) }

// localize rewrites the absolute paths a sample names into the world.
func (w *cronWorld) localize(s string) string {
	for _, p := range []string{"/srv/exports", "/etc/importer", "/var/log", "/data"} {
		s = strings.ReplaceAll(s, p, w.file(p))
	}
	return s
}

// night writes the export of rows [from, to) of the generated file.
func (w *cronWorld) night(from, to int) {
	w.t.Helper()
	must(w.t, os.WriteFile(w.export, []byte(w.header+strings.Join(w.rows[from:to], "")), 0o600))
}

// mail returns what the mail command was given so far.
func (w *cronWorld) mail() string {
	b, _ := os.ReadFile(w.file("/var/mail/sent"))
	return string(b)
}

// summary reads the summary.json of the run into out.
func (w *cronWorld) summary(out string) report.Summary {
	w.t.Helper()
	var s report.Summary
	data, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	must(w.t, err)
	must(w.t, json.Unmarshal(data, &s))
	return s
}

// cronJob is one way a scheduler runs the importer: a shell command line
// (crontab) or an argument list (Kubernetes), with its environment.
type cronJob struct {
	shell string   // a crontab command, run with sh -c
	args  []string // or the container's arguments
	env   []string
	out   string // its --out, in the world
}

func (w *cronWorld) command(job cronJob) *exec.Cmd {
	var cmd *exec.Cmd
	if job.shell != "" {
		cmd = exec.Command("sh", "-c", job.shell)
	} else {
		cmd = exec.Command(w.file("/usr/local/bin/importer"), job.args...)
	}
	cmd.Dir = w.root
	cmd.Env = append(os.Environ(), "PATH="+w.path, "HUBSPOT_BASE_URL="+w.url, "HUBSPOT_ACCESS_TOKEN=", "IMPORTER_RATE=0")
	cmd.Env = append(cmd.Env, job.env...)
	return cmd
}

// run runs the job to its end and returns its exit code (a shell job's
// is the importer's, read from its summary) and output.
func (w *cronWorld) run(job cronJob) (int, string) {
	w.t.Helper()
	out, err := w.command(job).CombinedOutput()
	code := exitOf(err)
	if job.shell != "" {
		code = w.summary(job.out).ExitCode
	}
	return code, string(out)
}

// cronCommand takes the command of the first crontab entry in text: the
// environment lines before it, and the line without its five schedule
// fields.
func cronCommand(t *testing.T, text string) (command string, env []string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.Contains(strings.Fields(line)[0], "="):
			env = append(env, line)
		default:
			fields := strings.Fields(line)
			if len(fields) < 6 {
				t.Fatalf("crontab line %q", line)
			}
			rest := line
			for range 5 {
				rest = strings.TrimSpace(rest[strings.Index(rest, " "):])
			}
			return strings.ReplaceAll(rest, `\%`, "%"), env
		}
	}
	t.Fatal("no crontab entry")
	return "", nil
}

// readmeCron takes the first crontab block of the README after section.
func readmeCron(t *testing.T, readme, section string) string {
	t.Helper()
	_, after, ok := strings.Cut(readme, section)
	if !ok {
		t.Fatalf("the README has no section %q", section)
	}
	_, block, ok := strings.Cut(after, "```cron\n")
	if !ok {
		t.Fatalf("the README's section %q has no crontab line", section)
	}
	block, _, _ = strings.Cut(block, "```")
	return block
}

// TestCronAsWritten runs the README's crontab line and both samples as
// written, with their paths moved into a temporary folder and the API root
// to an emulator: two nights whose exports overlap, a rerun of a night,
// and a night whose run overlaps the one before.
func TestCronAsWritten(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	must(t, err)
	crontab, err := os.ReadFile(filepath.Join(root, "samples/cron/crontab"))
	must(t, err)
	manifest, err := os.ReadFile(filepath.Join(root, "samples/cron/cronjob.yaml"))
	must(t, err)

	jobs := map[string]func(w *cronWorld) cronJob{
		"README": func(w *cronWorld) cronJob {
			cmd, env := cronCommand(t, readmeCron(t, string(readme), "**The same command every night.**"))
			return cronJob{shell: w.localize(cmd), env: env, out: w.file("/srv/exports/line_items.import")}
		},
		"samples/cron/crontab": func(w *cronWorld) cronJob {
			cmd, env := cronCommand(t, string(crontab))
			for i := range env {
				env[i] = w.localize(env[i])
			}
			return cronJob{shell: w.localize(cmd), env: env, out: w.file("/srv/exports/line_items.import")}
		},
		"samples/cron/cronjob.yaml": func(w *cronWorld) cronJob {
			var cj struct {
				Spec struct {
					JobTemplate struct {
						Spec struct {
							Template struct {
								Spec struct {
									Containers []struct {
										Args []string
										Env  []struct{ Name, Value string }
									}
								}
							}
						}
					} `yaml:"jobTemplate"`
				}
			}
			must(t, yaml.Unmarshal(manifest, &cj))
			c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			job := cronJob{out: w.file("/data/run")}
			for _, a := range c.Args {
				job.args = append(job.args, w.localize(a))
			}
			for _, e := range c.Env {
				if e.Name == "HUBSPOT_ACCESS_TOKEN" { // from the Secret
					e.Value = "pat-cron"
				}
				job.env = append(job.env, e.Name+"="+w.localize(e.Value))
			}
			return job
		},
	}
	exports := map[string]string{"README": "/srv/exports/line_items.csv", "samples/cron/crontab": "/srv/exports/line_items.csv",
		"samples/cron/cronjob.yaml": "/data/line_items.csv"}
	for name, jobOf := range jobs {
		t.Run(name, func(t *testing.T) {
			w := newCronWorld(t, bin, exports[name])
			job := jobOf(w)

			w.night(0, 40)
			if code, out := w.run(job); code != 0 || w.emu.LineItemCount() != 40 {
				t.Fatalf("night 1: exit %d, portal %d\n%s", code, w.emu.LineItemCount(), out)
			}
			w.night(20, 70) // half of it repeats night 1
			if code, out := w.run(job); code != 0 || w.emu.LineItemCount() != 70 {
				t.Fatalf("night 2: exit %d, portal %d\n%s", code, w.emu.LineItemCount(), out)
			}
			if s := w.summary(job.out); s.Rows != 50 || s.Created != 50 || s.Earlier != 20 {
				t.Errorf("night 2: summary %+v; want 50 rows, 20 of them imported earlier", s)
			}
			creates, requests := w.emu.Stats().BatchCreates, w.emu.Stats().Requests
			code, out := w.run(job)
			if code != 0 || w.emu.Stats().BatchCreates != creates {
				t.Fatalf("rerun of night 2: exit %d, %d creates sent\n%s", code, w.emu.Stats().BatchCreates-creates, out)
			}
			if job.shell == "" && !strings.Contains(out, "Already complete: all 50 rows were created earlier; no line item was sent.") {
				t.Errorf("rerun of night 2 does not say it is already complete:\n%s", out)
			}
			// No batch write, but the reads before the import count in the
			// portal's limits, and the summary says how many.
			if s := w.summary(job.out); s.Requests != 0 || s.Extra["all_requests"] != float64(w.emu.Stats().Requests-requests) {
				t.Errorf("rerun of night 2: requests %d, all_requests %v; want 0 and the %d the portal received",
					s.Requests, s.Extra["all_requests"], w.emu.Stats().Requests-requests)
			}

			// Night 3 starts while night 2's (slow) run still holds --out.
			w.night(60, 120)
			w.emu.SetFaults(emulator.Faults{Latency: 300 * time.Millisecond})
			lockFile := filepath.Join(job.out, ".lock")
			before, _ := os.ReadFile(lockFile) // the holder before: night 2's rerun
			slow := w.command(job)
			var slowOut bytes.Buffer
			slow.Stdout, slow.Stderr = &slowOut, &slowOut
			must(t, slow.Start())
			lockHeld := func() bool { // the new run wrote its pid and start time
				b, _ := os.ReadFile(lockFile)
				return len(b) > 0 && !bytes.Equal(b, before)
			}
			if !eventually(20*time.Second, 20*time.Millisecond, lockHeld) {
				slow.Process.Kill()
				t.Fatalf("the first run never took the lock\n%s", slowOut.String())
			}
			second := w.command(job)
			secondOut, err := second.CombinedOutput()
			if job.shell == "" {
				if code := exitOf(err); code != 75 {
					t.Errorf("overlapping run: exit %d, want 75\n%s", code, secondOut)
				}
			} else if !strings.Contains(string(secondOut)+w.mail(), "exited 75") {
				t.Errorf("overlapping run: want it to exit 75, and the crontab line to say so\n%s\nmail: %s", secondOut, w.mail())
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- slow.Wait() }()
			select {
			case err := <-done:
				if job.shell == "" && exitOf(err) != 0 {
					t.Fatalf("night 3: exit %d\n%s", exitOf(err), slowOut.String())
				}
			case <-ctx.Done():
				slow.Process.Kill()
				t.Fatal("night 3 did not finish")
			}
			if n := w.emu.LineItemCount(); n != 120 {
				t.Fatalf("after night 3 the portal holds %d line items, want 120", n)
			}
			checkOnce(t, w.emu, 120)
			if job.shell == "" {
				killedNight(t, w, job)
			}
		})
	}
}

// TestInputStillBeingWritten: cron starts the import while the export is
// still writing the file, stopped inside row 201's last cell (its last
// line has no line end, and the file was written moments ago). The run
// waits for the line, the export writes the rest, and the run reads on:
// every row once, row 201 with its whole price. The import has no key: a
// row 201 sent cut short would be another row, and the next night's whole
// one a second line item.
func TestInputStillBeingWritten(t *testing.T) {
	bin := buildBinary(t)
	p := newExternalPortal(t, 300)
	// The price moves to the last column (the mapping finds columns by
	// name), so that row 201 cut inside it is a valid row, with a price
	// one digit short.
	data, err := os.ReadFile(p.input)
	must(t, err)
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	must(t, err)
	price := slices.Index(recs[0], "Unit Price")
	for i, rec := range recs {
		recs[i] = append(slices.Delete(slices.Clone(rec), price, price+1), rec[price])
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	must(t, w.WriteAll(recs[:202]))
	cut := b.Len() - 2 // row 201 without its line end and its price's last digit
	must(t, w.WriteAll(recs[202:]))
	full := b.Bytes()
	must(t, os.WriteFile(p.input, full[:cut], 0o644))
	// Written "now" by a clock a little ahead: the run waits for the line
	// however slow this machine is, until the rest comes.
	soon := time.Now().Add(20 * time.Second)
	must(t, os.Chtimes(p.input, soon, soon))
	cmd := p.command(bin, "--rate", "0")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	defer cmd.Process.Kill()
	if !eventually(time.Minute, 10*time.Millisecond, func() bool { return strings.Contains(out.String(), "waiting for it to be finished") }) {
		t.Fatalf("the run did not wait for the file's last line:\n%s", out.String())
	}
	f, err := os.OpenFile(p.input, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.Write(full[cut:])
	must(t, errors.Join(err, f.Close()))
	if err := cmd.Wait(); exitOf(err) != 0 {
		t.Fatalf("exit %d\n%s", exitOf(err), out.String())
	}
	p.checkExactlyOnce(t)
	for _, li := range p.emu.LineItems() {
		if li.Properties["hs_sku"] == recs[201][0] && li.Properties["price"] != recs[201][len(recs[201])-1] {
			t.Errorf("row 201 (%s) has the price %s, want %s", recs[201][0], li.Properties["price"], recs[201][len(recs[201])-1])
		}
	}
}

// TestLastWinsFromAFile: --duplicate-keys last-wins reads the input twice
// (the first time for each key's last row): from a file it does, and
// only the last row of a key is sent.
func TestLastWinsFromAFile(t *testing.T) {
	bin := buildBinary(t)
	p := newExternalPortal(t, 100)
	data, err := os.ReadFile(p.input)
	must(t, err)
	lines := bytes.SplitAfter(data, []byte("\n"))
	// Rows 1 and 2 again at the end: their later rows win.
	data = append(data, append(slices.Clone(lines[1]), lines[2]...)...)
	must(t, os.WriteFile(p.input, data, 0o644))
	out, err := p.command(bin, "--rate", "0", "--key-property", keyProp, "--duplicate-keys", "last-wins").CombinedOutput()
	if exitOf(err) != 0 {
		t.Fatalf("exit %d\n%s", exitOf(err), out)
	}
	if s := p.summary(t); s.Rows != 102 || s.Created != 100 || s.Superseded != 2 {
		t.Errorf("summary %+v; want 102 rows, 100 created, 2 superseded", s)
	}
	if n := p.emu.LineItemCount(); n != 100 {
		t.Errorf("the portal holds %d line items, want 100", n)
	}
}

// checkOnce fails t unless the portal holds n line items, no SKU twice.
func checkOnce(t *testing.T, emu *emulator.Server, n int) {
	t.Helper()
	bySKU := map[string]bool{}
	for _, li := range emu.LineItems() {
		if bySKU[li.Properties["hs_sku"]] {
			t.Fatalf("SKU %s created twice", li.Properties["hs_sku"])
		}
		bySKU[li.Properties["hs_sku"]] = true
	}
	if len(bySKU) != n {
		t.Fatalf("the portal holds %d line items, want %d", len(bySKU), n)
	}
}

// killedNight: night 4's run is killed (kill -9, as an evicted pod is)
// while its request is unanswered, and night 5's export no longer holds
// its rows. Night 5 exits 0 for its own rows and looks night 4's up by
// key: those the portal holds are settled as created, the others, which
// may yet exist, listed in earlier_in_doubt.csv; night 6's export holds
// them again: they are settled, none twice, and the list goes.
func killedNight(t *testing.T, w *cronWorld, job cronJob) {
	w.night(120, 180)
	// Every answer takes 2 s. The run's first record in the journal is
	// that its batch is sent, made durable before the request goes: the
	// kill comes as soon as it is there, with the answer still 2 s away.
	w.emu.SetFaults(emulator.Faults{Latency: 2 * time.Second})
	journals, _ := filepath.Glob(filepath.Join(job.out, "portal-*", "journal.log"))
	if len(journals) != 1 {
		t.Fatalf("journals in %s: %v, want one", job.out, journals)
	}
	before, err := os.Stat(journals[0])
	must(t, err)
	cmd := w.command(job)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	if !eventually(30*time.Second, time.Millisecond, func() bool {
		fi, err := os.Stat(journals[0])
		return err == nil && fi.Size() > before.Size()
	}) {
		cmd.Process.Kill()
		t.Fatalf("night 4 recorded nothing\n%s", out.String())
	}
	must(t, cmd.Process.Kill())
	cmd.Wait()
	// The killed run's request, if it reached the portal, is created or
	// not before night 5 starts: then the portal holds what night 5 can
	// find.
	if !eventually(30*time.Second, 10*time.Millisecond, func() bool { return w.emu.Stats().InFlight == 0 }) {
		t.Fatalf("the portal is still serving %d requests of the killed run", w.emu.Stats().InFlight)
	}
	// Night 3's summary went when night 4's reports replaced its reports:
	// none is left to describe them with night 3's exit code.
	if _, err := os.Stat(filepath.Join(job.out, report.SummaryFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after night 4's kill, %s: stat err = %v, want none (the killed run wrote none)", report.SummaryFile, err)
	}
	w.emu.SetFaults(emulator.Faults{})

	w.night(180, 200)
	code, out5 := w.run(job)
	if code != 0 {
		t.Fatalf("night 5: exit %d\n%s", code, out5)
	}
	night4 := map[string]bool{}
	for _, line := range w.rows[120:180] {
		night4[strings.SplitN(line, ",", 2)[0]] = true
	}
	held := 0 // night 4's rows the portal holds: its request committed
	for _, li := range w.emu.LineItems() {
		if night4[li.Properties["hs_sku"]] {
			held++
		}
	}
	// Night 4's rows are looked up by key: those found are settled as
	// created, the others listed in earlier_in_doubt.csv, as the summary
	// says.
	s5 := w.summary(job.out)
	found, _ := s5.Extra["earlier_in_doubt_found"].(float64)
	listed, _ := s5.Extra["earlier_in_doubt"].(float64)
	if int(found) != held || int(found+listed) != len(night4) {
		t.Fatalf("night 5: %v found by key, %v listed; want the %d the portal holds found and the rest of night 4's %d listed\n%s", found, listed, held, len(night4), out5)
	}
	list := filepath.Join(job.out, "earlier_in_doubt.csv")
	if listed > 0 {
		recs := readCSVFile(t, list)
		if len(recs) != int(listed)+1 || !slices.Equal(recs[0], []string{"key", "identity", "error_code", "error_message"}) {
			t.Fatalf("night 5: earlier_in_doubt.csv = %q, want night 4's %v rows not found", recs, listed)
		}
		// A person reading the summary learns of them too, not only the log.
		if want := fmt.Sprintf("Earlier runs left %d rows in doubt that this input does not hold", len(recs)-1); len(recs) > 2 && (!strings.Contains(out5, want) || !strings.Contains(out5, list)) {
			t.Errorf("night 5's summary does not say %q and name %s:\n%s", want, list, out5)
		}
		for _, r := range recs[1:] {
			if !night4[r[0]] || r[2] != "NO_ANSWER" {
				t.Errorf("night 5 lists %q, not a row night 4 sent without an answer", r)
			}
		}
	}
	if found > 0 && !strings.Contains(out5, "earlier runs left in doubt, not in this input, found by key: created") {
		t.Errorf("night 5's summary does not say that night 4's rows were found:\n%s", out5)
	}
	t.Logf("night 5: %v of night 4's rows found by key, %v listed", found, listed)

	w.night(120, 200)
	if code, out := w.run(job); code != 0 {
		t.Fatalf("night 6: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(list); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("night 6: earlier_in_doubt.csv: %v, want it gone", err)
	}
	checkOnce(t, w.emu, 200)
}

// TestUpsertCronAsWritten runs the README's upsert crontab line as written
// (paths moved into a temporary folder, the API root to an emulator): night
// 2's export repeats half of night 1's keys with new prices; the portal
// ends with each key once, holding night 2's values, without a single
// batch create; a rerun sends nothing.
func TestUpsertCronAsWritten(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	must(t, err)
	cmd, env := cronCommand(t, readmeCron(t, string(readme), "## Create or update by key"))
	if !strings.Contains(cmd, "--mode upsert") {
		t.Fatalf("the upsert crontab line does not upsert: %s", cmd)
	}
	w := newCronWorld(t, bin, "/srv/exports/line_items.csv")
	job := cronJob{shell: w.localize(cmd), env: env, out: w.file("/srv/exports/line_items.import")}

	w.night(0, 40)
	if code, out := w.run(job); code != 0 || w.emu.LineItemCount() != 40 {
		t.Fatalf("night 1: exit %d, portal %d\n%s", code, w.emu.LineItemCount(), out)
	}
	// Night 2: rows 20-69, the repeated ones with their prices raised.
	for i := 20; i < 40; i++ {
		f, err := csv.NewReader(strings.NewReader(w.rows[i])).Read()
		must(t, err)
		f[4] = "9999.99" // Unit Price
		var b strings.Builder
		cw := csv.NewWriter(&b)
		must(t, cw.Write(f))
		cw.Flush()
		w.rows[i] = b.String()
	}
	w.night(20, 70)
	if code, out := w.run(job); code != 0 || w.emu.LineItemCount() != 70 {
		t.Fatalf("night 2: exit %d, portal %d\n%s\n%s", code, w.emu.LineItemCount(), out, w.failed(job.out))
	}
	if s := w.summary(job.out); s.Rows != 50 || s.Created != 50 {
		t.Errorf("night 2: summary %+v; want 50 rows created or updated", s)
	} else if acts, _ := s.Extra["actions"].(map[string]any); acts["created"] != float64(30) || acts["updated"] != float64(20) {
		t.Errorf("night 2: actions %v; want 30 created (rows 41-70) and 20 updated (rows 21-40)", s.Extra["actions"])
	}
	st := w.emu.Stats()
	if st.BatchCreates != 0 || st.BatchUpserts == 0 {
		t.Errorf("%d batch creates and %d upserts; want upserts only", st.BatchCreates, st.BatchUpserts)
	}
	bySKU := map[string]int{}
	for _, li := range w.emu.LineItems() {
		sku := li.Properties["hs_sku"]
		if bySKU[sku]++; bySKU[sku] > 1 {
			t.Fatalf("SKU %s is on the portal twice", sku)
		}
		n := 0
		fmt.Sscanf(sku, "SKU-%d", &n)
		if n > 20 && n <= 40 && li.Properties["price"] != "9999.99" {
			t.Errorf("%s: price %q, want night 2's 9999.99", sku, li.Properties["price"])
		}
	}
	upserts := st.BatchUpserts
	if code, out := w.run(job); code != 0 || w.emu.Stats().BatchUpserts != upserts {
		t.Fatalf("rerun of night 2: exit %d, %d upserts sent\n%s", code, w.emu.Stats().BatchUpserts-upserts, out)
	}
	sum := w.summary(job.out)
	if acts, _ := sum.Extra["actions"].(map[string]any); acts["unchanged"] != float64(50) || len(acts) != 1 {
		t.Errorf("rerun of night 2: actions %v; want all 50 unchanged", acts)
	}
	// What a later run does with rows in doubt is read from these.
	if sum.Extra["mode"] != "upsert" || sum.Extra["key_property"] != keyProp || sum.Extra["retry_in_doubt"] != nil {
		t.Errorf("rerun of night 2: mode %v, key_property %v, retry_in_doubt %v; want upsert, %s, none",
			sum.Extra["mode"], sum.Extra["key_property"], sum.Extra["retry_in_doubt"], keyProp)
	}
}

// failed returns the failed.csv of a run, for a message.
func (w *cronWorld) failed(out string) string {
	b, _ := os.ReadFile(filepath.Join(out, report.FailedFile))
	return string(b)
}
