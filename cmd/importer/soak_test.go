package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

// TestSoak runs SOAK trials (skipped when SOAK is unset; SOAK_SEED repeats
// a run's draws): each draws every emulator reading HubSpot's docs leave
// open, faults, a mode (create with a key, create without one, upsert on
// v3 or 2026-09) and 3,000 to 8,000 rows, kills the binary with SIGKILL one
// to four times at random moments, then runs it without faults. Every row
// must then be in exactly one report, no SKU twice in the portal, every id
// in created.csv the portal's, and every line item in the portal in
// created.csv or in_doubt.csv (only a run without a key may end with rows
// in doubt).
func TestSoak(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SOAK"))
	if n == 0 {
		t.Skip("SOAK unset")
	}
	bin := buildBinary(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SOAK_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	for trial := range n {
		rng := rand.New(rand.NewPCG(seed, uint64(trial)))
		cfg := emulator.Config{RateMax: -1}
		if rng.IntN(3) == 0 {
			cfg.RateMax, cfg.RateInterval = 300, 10*time.Second
			cfg.CountAtCompletion = rng.IntN(2) == 0
		}
		cfg.ConflictPerRow = rng.IntN(2) == 0
		cfg.ConflictAs = []string{"", emulator.ConflictAlreadyExists, emulator.ConflictValidation}[rng.IntN(3)]
		cfg.CreateOmitsTraceID = rng.IntN(4) == 0
		cfg.EchoNormalized = rng.IntN(2) == 0
		cfg.UniqueCaseInsensitive = rng.IntN(2) == 0
		cfg.BatchReadNoneFound404 = rng.IntN(2) == 0
		if rng.IntN(3) == 0 {
			cfg.SearchLag = 3 * time.Second
		}
		if rng.IntN(3) == 0 {
			cfg.ReadLag = 2 * time.Second
		}
		cfg.ErrorForms = []string{"", emulator.ErrorFormText, emulator.ErrorFormLoose}[rng.IntN(3)]
		mode := rng.IntN(4) // 0 keyed create, 1 keyless create, 2 upsert v3, 3 upsert 2026-09
		if mode >= 2 {
			cfg.UpsertOmitsTraceID = rng.IntN(2) == 0
			cfg.MultiStatus2026 = mode == 3 && rng.IntN(2) == 0
		}
		f := emulator.Faults{
			Latency: time.Duration(10+rng.IntN(30)) * time.Millisecond, LatencyMax: time.Duration(40+rng.IntN(60)) * time.Millisecond,
			ErrorRate: rng.Float64() * 0.08, CommitThenErrorRate: rng.Float64() * 0.12, CommitThenDrop: rng.Float64() * 0.05,
			RateLimitRate: rng.Float64() * 0.04, RetryAfter: rng.IntN(2) == 0,
		}
		if rng.IntN(3) == 0 {
			f.LateCommitRate, f.LateCommit = 0.02, 1500*time.Millisecond
		}
		if rng.IntN(3) == 0 {
			f.CommitThenRowErrorRate = rng.Float64() * 0.05
		}
		kills := 1 + rng.IntN(4)
		rows := 3000 + rng.IntN(5000)
		name := fmt.Sprintf("trial%d_mode%d", trial, mode)
		t.Run(name, func(t *testing.T) {
			t.Logf("seed %d trial %d cfg %+v faults %+v kills %d rows %d", seed, trial, cfg, f, kills, rows)
			p := newExternalPortalWith(t, rows, cfg)
			var args []string
			switch mode {
			case 0:
				args = []string{"--key-property", keyProp, "--lookup-delay", "50ms"}
			case 1:
			case 2:
				args = []string{"--mode", "upsert", "--api-version", "v3", "--key-property", keyProp}
			case 3:
				args = []string{"--mode", "upsert", "--api-version", "2026-09", "--key-property", keyProp}
			}
			if mode >= 2 {
				p.sticky = args
				args = nil
			}
			p.emu.SetFaults(f)
			for k := range kills {
				cmd := p.command(bin, append([]string{"--rate", "1", "--workers", "4"}, args...)...)
				kill := make(chan struct{})
				time.AfterFunc(time.Duration(100+rng.IntN(1400))*time.Millisecond, func() { close(kill) })
				if exited, err := killWhen(t, cmd, kill); exited {
					t.Logf("run %d ended before the kill: exit %d", k, exitOf(err))
				}
			}
			// Late commits land, and reads show them, before the last run.
			time.Sleep(2*time.Second + cfg.ReadLag)
			p.emu.SetFaults(emulator.Faults{})
			cmd := p.command(bin, append([]string{"--rate", "0"}, args...)...)
			out, err := cmd.CombinedOutput()
			code := exitOf(err)
			if code != 0 && !(mode == 1 && code == 3) {
				t.Fatalf("final run: exit %d\n%s", code, out)
			}
			bySKU := p.bySKU(t)
			seen := map[string]string{}
			inReport := func(file string) map[string]string {
				m := map[string]string{}
				recs := readCSVFile(t, filepath.Join(p.outDir(), file)) // every run writes all four
				col, idCol := -1, -1
				for i, h := range recs[0] {
					switch h {
					case "SKU":
						col = i
					case "id":
						idCol = i
					}
				}
				for _, r := range recs[1:] {
					sku := r[col]
					if prev, ok := seen[sku]; ok {
						t.Errorf("%s in %s and %s", sku, prev, file)
					}
					seen[sku] = file
					if idCol >= 0 {
						m[sku] = r[idCol]
					} else {
						m[sku] = ""
					}
				}
				return m
			}
			created := inReport("created.csv")
			doubt := inReport("in_doubt.csv")
			inReport("failed.csv")
			inReport("not_sent.csv")
			if len(seen) != rows {
				t.Errorf("reports name %d rows of %d", len(seen), rows)
			}
			for sku, id := range created {
				if bySKU[sku] != id {
					t.Errorf("created.csv: %s is %s; portal %q", sku, id, bySKU[sku])
				}
			}
			for sku := range bySKU {
				if _, ok := created[sku]; ok {
					continue
				}
				if _, ok := doubt[sku]; !ok {
					t.Errorf("portal holds %s, reported %s", sku, seen[sku])
				}
			}
			t.Logf("exit %d: %d created, %d in doubt, %d in portal; emulator %+v", code, len(created), len(doubt), len(bySKU), p.emu.Stats())
		})
	}
}
