package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/lineitems/importer/internal/emulator"
	"github.com/lineitems/importer/internal/importer"
	"github.com/lineitems/importer/internal/report"
	"github.com/lineitems/importer/internal/sample"
	"github.com/lineitems/importer/internal/upload"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errHelp, 0},
		{&usageError{"x"}, 2},
		{fmt.Errorf("wrapped: %w", context.Canceled), 130},
		{&importer.IncompleteError{Failed: 1}, 3},
		{&upload.StopError{Code: "DAILY_LIMIT"}, 1},
		{&importer.SetupError{Err: errors.New("bad mapping")}, 1},
		{errors.New("disk full"), 1},
	}
	for _, tc := range cases {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tokFile := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(tokFile, []byte("pat-from-file\n"), 0o600)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	withTok := env(map[string]string{"HUBSPOT_ACCESS_TOKEN": "pat-env"})
	cases := []struct {
		name    string
		args    []string
		env     func(string) string
		usage   bool
		check   func(t *testing.T, c *config)
		errText string
	}{
		{name: "defaults", args: []string{"data/line_items.csv"}, env: withTok, check: func(t *testing.T, c *config) {
			if c.outDir != "line_items.import" || c.rate != 9 || c.workers != 4 || c.batchSize != 100 || c.token.Reveal() != "pat-env" || c.baseURL != "https://api.hubapi.com" {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "token file wins", args: []string{"--token-file", tokFile, "a.csv"}, env: withTok, check: func(t *testing.T, c *config) {
			if c.token.Reveal() != "pat-from-file" {
				t.Errorf("token from %q", c.token.Reveal())
			}
		}},
		{name: "base url from env", args: []string{"a.csv"}, env: env(map[string]string{"HUBSPOT_ACCESS_TOKEN": "t", "HUBSPOT_BASE_URL": "http://127.0.0.1:9"}), check: func(t *testing.T, c *config) {
			if c.baseURL != "http://127.0.0.1:9" {
				t.Errorf("base url %q", c.baseURL)
			}
		}},
		{name: "stdin", args: []string{"-"}, env: withTok, check: func(t *testing.T, c *config) {
			if c.input != "-" || c.outDir != "stdin.import" {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "sandbox needs no token", args: []string{"--sandbox", "a.csv"}, env: env(nil)},
		{name: "no token", args: []string{"a.csv"}, env: env(nil), usage: true, errText: "HUBSPOT_ACCESS_TOKEN"},
		{name: "plain http to a remote host", args: []string{"--base-url", "http://api.hubapi.com", "a.csv"}, env: withTok, usage: true, errText: "loopback"},
		{name: "batch size over 100", args: []string{"--batch-size", "101", "a.csv"}, env: withTok, usage: true},
		{name: "no input", args: nil, env: withTok, usage: true},
		{name: "two inputs", args: []string{"a.csv", "b.csv"}, env: withTok, usage: true},
		{name: "unknown flag", args: []string{"--frobnicate", "a.csv"}, env: withTok, usage: true},
		{name: "bad log format", args: []string{"--log-format", "xml", "a.csv"}, env: withTok, usage: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, tc.env, &bytes.Buffer{})
			var ue *usageError
			if tc.usage != errors.As(err, &ue) {
				t.Fatalf("err = %v, usage error wanted: %v", err, tc.usage)
			}
			if tc.errText != "" && !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("err %q lacks %q", err, tc.errText)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestTokenNeverInOutput runs imports that fail in several ways with a known
// token and searches every log line, report, summary and error for it.
func TestTokenNeverInOutput(t *testing.T) {
	const secret = "pat-na1-11111111-2222-3333-4444-555555555555"
	for _, tc := range []struct {
		name   string
		portal string // the token the portal accepts
		scopes []string
	}{
		{"wrong token", "pat-other", nil},
		{"missing scope", secret, []string{emulator.ScopeLineItemsRead}},
		{"accepted", secret, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := emulator.New(emulator.Config{Token: tc.portal, Scopes: tc.scopes, RateMax: -1})
			srv := httptest.NewServer(emu)
			defer srv.Close()
			dir := t.TempDir()
			input := filepath.Join(dir, "in.csv")
			f, _ := os.Create(input)
			sample.Write(f, 150, 1, nil)
			f.Close()
			mappingFile := filepath.Join(dir, "m.yaml")
			os.WriteFile(mappingFile, []byte(strings.ReplaceAll(sample.Mapping, "  - {column: Deal ID, to: deal}\n", "")), 0o600)
			out := filepath.Join(dir, "out")
			cfg, err := parseConfig([]string{"--base-url", srv.URL, "--mapping", mappingFile, "--out", out, "--rate", "0", input},
				func(k string) string { return map[string]string{"HUBSPOT_ACCESS_TOKEN": secret}[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			var logs, stdout bytes.Buffer
			log, _ := newLogger("json", "debug", &logs)
			err = run(context.Background(), cfg, log, &stdout)
			_ = log.Sync()
			if tc.name != "accepted" && exitCode(err) != exitFatal {
				t.Fatalf("exit code %d (err %v), want 1", exitCode(err), err)
			}
			if tc.name == "missing scope" && (err == nil || !strings.Contains(err.Error(), "crm.objects.line_items.write")) {
				t.Errorf("error %v does not name the missing scope", err)
			}
			texts := map[string]string{"logs": logs.String(), "stdout": stdout.String(), "error": fmt.Sprint(err), "config": fmt.Sprintf("%+v %#v", *cfg, *cfg)}
			entries, _ := os.ReadDir(out)
			if len(entries) < 4 {
				t.Fatalf("out has %d files", len(entries))
			}
			for _, e := range entries {
				data, _ := os.ReadFile(filepath.Join(out, e.Name()))
				texts[e.Name()] = string(data)
			}
			for where, text := range texts {
				if strings.Contains(text, secret) || strings.Contains(text, secret[8:]) {
					t.Errorf("the token appears in %s", where)
				}
			}
		})
	}
}

var _ = zap.NewNop

// buildBinary compiles the importer once for the tests that run it.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "importer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	root, _ := filepath.Abs("../..")

	t.Run("sandbox sample exits 3 with the planted problems in failed.csv", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "--sandbox", "--mapping", filepath.Join(root, "samples/mapping.yaml"), filepath.Join(root, "samples/line_items.csv"))
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HUBSPOT_ACCESS_TOKEN=")
		out, err := cmd.CombinedOutput()
		if code := exitOf(err); code != 3 {
			t.Fatalf("exit %d, want 3\n%s", code, out)
		}
		var sum report.Summary
		data, err := os.ReadFile(filepath.Join(dir, "line_items.import", "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Rows != sample.SampleRows || sum.Failed != len(sample.Problems) || sum.Created != sample.SampleRows-len(sample.Problems) || sum.ExitCode != 3 {
			t.Errorf("summary = %+v", sum)
		}
		if !json.Valid(bytes.Split(out, []byte("\n"))[0]) {
			t.Errorf("log is not JSON when not on a terminal: %s", bytes.Split(out, []byte("\n"))[0])
		}
	})
	t.Run("version", func(t *testing.T) {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if exitOf(err) != 0 || !strings.HasPrefix(string(out), "importer ") {
			t.Errorf("exit %d: %s", exitOf(err), out)
		}
	})
	t.Run("usage error exits 2", func(t *testing.T) {
		out, err := exec.Command(bin).CombinedOutput()
		if exitOf(err) != 2 || !strings.Contains(string(out), "Usage") {
			t.Errorf("exit %d: %s", exitOf(err), out)
		}
	})
	t.Run("bad mapping exits 1 naming the column", func(t *testing.T) {
		dir := t.TempDir()
		m := filepath.Join(dir, "m.yaml")
		os.WriteFile(m, []byte("properties:\n  name: Produkt\n"), 0o600)
		cmd := exec.Command(bin, "--sandbox", "--mapping", m, filepath.Join(root, "samples/line_items.csv"))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if exitOf(err) != 1 || !strings.Contains(string(out), `no column "Produkt"`) {
			t.Errorf("exit %d: %s", exitOf(err), out)
		}
	})
	t.Run("SIGTERM exits 130 with consistent reports", func(t *testing.T) {
		dir := t.TempDir()
		input := filepath.Join(dir, "big.csv")
		f, _ := os.Create(input)
		sample.Write(f, 20000, 3, nil)
		f.Close()
		// 200 requests at 5/s would take 40 s; the signal comes after the first rows land.
		cmd := exec.Command(bin, "--sandbox", "--rate", "5", "--mapping", filepath.Join(root, "samples/mapping.yaml"), input)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		created := filepath.Join(dir, "big.import", "created.csv")
		deadline := time.Now().Add(30 * time.Second)
		for {
			data, _ := os.ReadFile(created)
			if bytes.Count(data, []byte("\n")) > 100 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no rows created in time:\n%s", out.String())
			}
			time.Sleep(20 * time.Millisecond) // polling a child process: there is no clock to fake
		}
		cmd.Process.Signal(syscall.SIGTERM)
		err := cmd.Wait()
		if code := exitOf(err); code != 130 {
			t.Fatalf("exit %d, want 130\n%s", code, out.String())
		}
		var sum report.Summary
		data, _ := os.ReadFile(filepath.Join(dir, "big.import", "summary.json"))
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatalf("summary: %v", err)
		}
		lines := 0
		for _, name := range []string{"created.csv", "failed.csv", "in_doubt.csv"} {
			data, _ := os.ReadFile(filepath.Join(dir, "big.import", name))
			lines += bytes.Count(data, []byte("\n")) - 1
		}
		if sum.ExitCode != 130 || sum.Rows != lines || sum.Created+sum.Failed+sum.InDoubt != sum.Rows || sum.Rows >= 20000 || sum.InDoubt != 0 {
			t.Errorf("summary %+v, %d report lines", sum, lines)
		}
	})
}

func exitOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
