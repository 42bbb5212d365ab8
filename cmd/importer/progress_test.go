package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/sample"
)

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// TestProgressOnATerminal runs the importer under a pseudo-terminal: a
// progress bar is drawn, log lines stay whole, and the summary table ends
// the output.
func TestProgressOnATerminal(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	f, _ := os.Create(input)
	if err := sample.Write(f, 20000, 8, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	root, _ := filepath.Abs("../..")
	cmd := exec.Command(bin, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), "--rate", "0", input)
	cmd.Dir = dir
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, _ = io.Copy(&out, ptmx) // until the child exits and the pty closes
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	text := ansi.ReplaceAllString(out.String(), "")
	if !strings.Contains(text, "importing") || !regexp.MustCompile(`\d+%`).MatchString(text) {
		t.Errorf("no progress bar drawn:\n%s", text)
	}
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' })
	logLine := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\s+INFO\s`)
	logs := 0
	for _, l := range lines {
		if !strings.Contains(l, "INFO") {
			continue
		}
		logs++
		if !logLine.MatchString(l) || strings.Contains(l, "importing") {
			t.Errorf("a log line is garbled: %q", l)
		}
	}
	if logs < 2 {
		t.Errorf("%d console log lines, want the start and end lines at least:\n%s", logs, text)
	}
	if !strings.Contains(text, "Import finished: 20000 of 20000 rows created.") || !strings.Contains(text, "throttled (429)") {
		t.Errorf("no summary table:\n%s", text)
	}
	if !strings.Contains(text, "100%") || strings.Contains(text, "rows/hr") {
		t.Errorf("the bar never reached 100%%, or showed the library's own pace:\n%s", text)
	}
}

// TestProgressWhileWaitingForTheRateWindow: while requests wait for a
// slot in HubSpot's rate window, the bar says so.
func TestProgressWhileWaitingForTheRateWindow(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	f, _ := os.Create(input)
	if err := sample.Write(f, 400, 9, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	root, _ := filepath.Abs("../..")
	// 10 requests per 10 s of 10 rows each: the 11th waits for the window.
	cmd := exec.Command(bin, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), "--rate", "1", "--batch-size", "10", input)
	cmd.Dir = dir
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	found := make(chan bool, 1)
	go func() {
		var seen bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			seen.Write(buf[:n])
			if strings.Contains(ansi.ReplaceAllString(seen.String(), ""), "waiting for HubSpot's rate window") {
				found <- true
				return
			}
			if err != nil {
				found <- false
				return
			}
		}
	}()
	if !<-found {
		t.Error("the bar never said it was waiting for the rate window")
	}
}

// TestNoBarWithoutATerminal: under cron the output has no bar, the logs are
// JSON, and --summary-json - puts the summary on standard output.
func TestNoBarWithoutATerminal(t *testing.T) {
	stdout, stderr, err := sandboxSample(t, t.TempDir(), "--summary-json", "-")
	if exitOf(err) != 3 {
		t.Fatalf("exit %d\n%s", exitOf(err), stderr.String())
	}
	if strings.Contains(stderr.String(), "importing") || strings.Contains(stderr.String(), "\r") {
		t.Errorf("a progress bar was drawn without a terminal:\n%s", stderr.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.HasPrefix(l, "{") && !jsonValid(l) {
			t.Errorf("log line is not JSON: %q", l)
		}
	}
	if !jsonValid(stdout.String()) || !strings.Contains(stdout.String(), `"exit_code": 3`) {
		t.Errorf("standard output is not the summary JSON:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "Import finished: 293 of 300 rows created.") {
		t.Errorf("the human summary did not go to standard error:\n%s", stderr.String())
	}
}

// TestSummaryJSONUnwritable: a --summary-json that cannot be written (here
// its temporary file's name is taken by a folder) makes the run fatal,
// exit 1 whatever the rows' outcome, says so on standard error, and the
// summary in --out carries that exit code; the human summary still comes.
func TestSummaryJSONUnwritable(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "last-summary.json")
	if err := os.Mkdir(target+".tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := sandboxSample(t, dir, "--summary-json", target)
	if exitOf(err) != 1 {
		t.Fatalf("exit %d, want 1\n%s", exitOf(err), stderr.String())
	}
	if !strings.Contains(stderr.String(), "writing --summary-json") {
		t.Errorf("standard error does not say the summary was not written:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "Import finished: 293 of 300 rows created.") {
		t.Errorf("no human summary:\n%s", stdout.String())
	}
	var sum report.Summary
	data, err := os.ReadFile(filepath.Join(dir, "line_items.import", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil || sum.ExitCode != 1 {
		t.Errorf("summary.json: %v, exit_code %d, want 1", err, sum.ExitCode)
	}
}

// sandboxSample runs the binary with --sandbox on the sample file and its
// mapping, with the flags given, in dir, and returns what it wrote.
func sandboxSample(t *testing.T, dir string, flags ...string) (stdout, stderr *bytes.Buffer, err error) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")
	args := append([]string{"--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml")}, flags...)
	cmd := exec.Command(bin, append(args, filepath.Join(root, "samples/line_items.csv"))...)
	cmd.Dir = dir
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return stdout, stderr, cmd.Run()
}

// TestLogDurationsHaveUnits: a duration in a log line says its unit, in
// JSON and on a terminal.
func TestLogDurationsHaveUnits(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		var b bytes.Buffer
		log, err := newLogger(format, "info", &b, false)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("waiting", zap.Duration("settle", 2*time.Second), zap.Duration("written_ago", 42600*time.Microsecond))
		if out := b.String(); !strings.Contains(out, `"settle":"2s"`) && !strings.Contains(out, `"settle": "2s"`) || !strings.Contains(out, "42.6ms") {
			t.Errorf("%s: %s", format, out)
		}
	}
}
