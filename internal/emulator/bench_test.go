package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

// benchBodies returns n batch create bodies of size inputs each, shaped
// like the importer's: nine properties, one deal association and a trace
// id per input, encoded by encoding/json (so "&" arrives as \u0026).
func benchBodies(n, size int) [][]byte {
	type spec struct {
		Category string `json:"associationCategory"`
		TypeID   int    `json:"associationTypeId"`
	}
	type assoc struct {
		To    map[string]string `json:"to"`
		Types []spec            `json:"types"`
	}
	type in struct {
		Associations []assoc           `json:"associations"`
		TraceID      string            `json:"objectWriteTraceId"`
		Properties   map[string]string `json:"properties"`
	}
	names := []string{"Custom integration", "Premium support", "Storage 1 TB", "Onboarding & training"}
	descs := []string{"Integration work, fixed price", "24/7 support with 1 h response", "Additional encrypted storage", "Remote sessions <4 h>"}
	currencies := []string{"USD", "EUR", "GBP"}
	billing := []string{"monthly", "quarterly", "annually"}
	bodies := make([][]byte, n)
	row := 0
	for b := range bodies {
		inputs := make([]in, size)
		for i := range inputs {
			row++
			p := map[string]string{
				"hs_sku":                     fmt.Sprintf("SKU-%07d", row),
				"name":                       names[row%len(names)],
				"description":                descs[row%len(descs)],
				"quantity":                   strconv.Itoa(1 + row%50),
				"price":                      fmt.Sprintf("%d.%02d", 10+row%3000, row%100),
				"hs_discount_percentage":     strconv.Itoa(row % 20),
				"hs_line_item_currency_code": currencies[row%len(currencies)],
				"recurringbillingfrequency":  billing[row%len(billing)],
			}
			if row%3 != 0 {
				p["hs_recurring_billing_start_date"] = fmt.Sprintf("2026-%02d-%02d", 1+row%12, 1+row%28)
			}
			inputs[i] = in{
				Associations: []assoc{{To: map[string]string{"id": strconv.Itoa(1001 + row%20)}, Types: []spec{{"HUBSPOT_DEFINED", 20}}}},
				TraceID:      "row-" + strconv.Itoa(row),
				Properties:   p,
			}
		}
		raw, err := json.Marshal(map[string]any{"inputs": inputs})
		if err != nil {
			panic(err)
		}
		bodies[b] = raw
	}
	return bodies
}

// cpuTime is the CPU time (user and system) the process has used so far,
// which unlike wall time does not depend on what else the machine runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func newBenchServer() *emulator.Server {
	srv := emulator.New(emulator.Config{Token: testToken, RateMax: -1, SearchPerSecond: -1, Seed: 1})
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = strconv.Itoa(1001 + i)
	}
	srv.SeedObjects("deals", ids...)
	return srv
}

// BenchmarkBatchCreate sends 100-input batches through ServeHTTP; each
// iteration creates 100 line items.
func BenchmarkBatchCreate(b *testing.B) {
	bodies := benchBodies(64, 100)
	srv := newBenchServer()
	b.ReportAllocs()
	b.SetBytes(int64(len(bodies[0])))
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		if rec := serve(b, srv, "/crm/v3/objects/line_items/batch/create", bodies[i%len(bodies)]); rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/row")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*100), "cpu-ns/row")
}

// BenchmarkSearch runs an EQ search over 100,000 stored line items, as the
// importer's key lookups do.
func BenchmarkSearch(b *testing.B) {
	srv := newBenchServer()
	for _, body := range benchBodies(1000, 100) {
		if rec := serve(b, srv, "/crm/v3/objects/line_items/batch/create", body); rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	}
	body := []byte(`{"filterGroups":[{"filters":[{"propertyName":"hs_sku","operator":"IN","values":["sku-0050000","sku-0099999"]}]}],"properties":["hs_sku","name"],"limit":100,"after":"0"}`)
	b.ReportAllocs()
	for b.Loop() {
		if rec := serve(b, srv, "/crm/v3/objects/line_items/search", body); rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	}
}
