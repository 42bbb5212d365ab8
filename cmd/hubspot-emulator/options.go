package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lineitems/importer/internal/emulator"
)

// options are the parsed command line.
type options struct {
	addr         string
	config       emulator.Config
	faults       emulator.Faults
	seeds        []seed
	unique       []string // custom text properties with unique values
	cpuProfile   string
	reportJSON   string // where to write the final counts on shutdown
	distinct     string // property whose distinct values the report counts
	idleReset    time.Duration
	connectDelay time.Duration
}

// seed is a set of association targets to create.
type seed struct {
	objectType string
	ids        []string
}

// seedFlag collects repeated --seed TYPE=IDS flags.
type seedFlag []seed

func (s *seedFlag) String() string { return "" }

func (s *seedFlag) Set(v string) error {
	typ, ids, ok := strings.Cut(v, "=")
	if !ok {
		return errors.New("want TYPE=IDS, e.g. quotes=2001-2005")
	}
	list, err := parseIDs(ids)
	if err != nil {
		return err
	}
	*s = append(*s, seed{typ, list})
	return nil
}

// seedUniqueFlag collects repeated --seed-unique TYPE.PROPERTY=PATTERN flags.
type seedUniqueFlag []emulator.SeedUnique

func (s *seedUniqueFlag) String() string { return "" }

func (s *seedUniqueFlag) Set(v string) error {
	lhs, pattern, ok := strings.Cut(v, "=")
	typ, prop, ok2 := strings.Cut(lhs, ".")
	if !ok || !ok2 || typ == "" || prop == "" {
		return errors.New("want TYPE.PROPERTY=PATTERN, e.g. deals.legacy_deal_id=LD-{id}")
	}
	if !slices.Contains(readableTypes, typ) {
		return fmt.Errorf("object type %q cannot be read back (want one of %s)", typ, strings.Join(readableTypes, ", "))
	}
	if !strings.Contains(pattern, "{id}") {
		return fmt.Errorf("pattern %q has no {id}: every record would hold the same value", pattern)
	}
	for _, u := range *s {
		if u.ObjectType == typ && u.Property == prop {
			return fmt.Errorf("%s.%s given twice", typ, prop)
		}
	}
	*s = append(*s, emulator.SeedUnique{ObjectType: typ, Property: prop, Pattern: pattern})
	return nil
}

// readableTypes are the association targets batch read serves.
var readableTypes = []string{"deals", "quotes", "invoices", "orders", "carts", "subscriptions"}

// parseOptions parses the command line. Usage and errors go to stderr.
func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("hubspot-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o                     options
		scopes, seedDeals     string
		errStatuses, ctStatus string
		allowRemote           bool
		seeds                 seedFlag
		seedUnique            seedUniqueFlag
	)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.config.Token, "token", "", "the bearer token the portal accepts (required)")
	fs.StringVar(&scopes, "scopes", "", "comma-separated granted scopes (default: line item read/write, line item schemas read, deals/quotes/invoices/orders/carts/subscriptions read, e-commerce)")
	fs.IntVar(&o.config.RateMax, "rate-max", emulator.DefaultRateMax, "non-search requests per rate interval; negative: unlimited")
	fs.DurationVar(&o.config.RateInterval, "rate-interval", emulator.DefaultRateInterval, "rolling burst window")
	fs.IntVar(&o.config.DailyLimit, "daily", 0, "requests per UTC day; 0: unlimited")
	fs.IntVar(&o.config.SearchPerSecond, "search-per-second", emulator.DefaultSearchPerSecond, "search requests per second; negative: unlimited")
	fs.DurationVar(&o.config.SearchLag, "search-lag", 0, "delay before created line items become searchable")
	fs.DurationVar(&o.config.ReadLag, "read-lag", 0, "delay before created line items become visible to batch read (unique values are enforced at once)")
	fs.Int64Var(&o.config.Seed, "seed", 1, "seed for faults, ids and shuffling")
	fs.StringVar(&seedDeals, "seed-deals", "", "deal ids to create, e.g. 1001-1010 or 1001,1005")
	fs.Var(&seeds, "seed-objects", "TYPE=IDS association targets to create (repeatable), e.g. quotes=2001-2003")
	fs.Var(&seedUnique, "seed-unique", "TYPE.PROPERTY=PATTERN (repeatable): every seeded record of TYPE (deals, quotes, invoices, orders, carts, subscriptions) holds the unique PROPERTY = PATTERN with {id} replaced by its id, for batch read by idProperty; e.g. deals.legacy_deal_id=LD-{id}")
	fs.Float64Var(&o.faults.ErrorRate, "error-rate", 0, "fraction of requests answered with an error status before processing")
	fs.StringVar(&errStatuses, "error-statuses", "", "comma-separated statuses for --error-rate (default 500,502,503)")
	fs.Float64Var(&o.faults.RateLimitRate, "rate-limit-rate", 0, "fraction of requests answered with an injected 429")
	fs.BoolVar(&o.faults.RetryAfter, "retry-after", false, "send Retry-After on injected 429s")
	fs.DurationVar(&o.faults.Latency, "latency", 0, "latency of every request (the least, with --latency-max)")
	fs.DurationVar(&o.faults.LatencyMax, "latency-max", 0, "with --latency, each request's latency is uniform between the two")
	fs.BoolVar(&o.config.CountAtCompletion, "count-at-completion", false, "count a request in the rate window when its answer is ready, not when it arrives")
	fs.Float64Var(&o.faults.CommitThenDrop, "commit-then-drop", 0, "fraction of batch writes (creates, upserts, association creates) committed and then dropped")
	fs.Float64Var(&o.faults.CommitThenErrorRate, "commit-then-error-rate", 0, "fraction of batch writes (creates, upserts, association creates) committed and then answered with an error")
	fs.Float64Var(&o.faults.CommitThenRowErrorRate, "commit-then-row-error-rate", 0, "fraction of batch creates that create line items and answer some of them with a per-input error of status 500 instead of their results")
	fs.StringVar(&ctStatus, "commit-then-statuses", "", "comma-separated statuses for --commit-then-error-rate (default 502,504)")
	fs.DurationVar(&o.connectDelay, "connect-delay", 0, "hold the first request on each new connection this long, as the TCP and TLS handshakes a new connection costs delay it; 0: none")
	fs.DurationVar(&o.idleReset, "idle-reset", 0, "reset a keep-alive connection idle this long (from its accept or its last answer) when the next request comes, unread, as a server whose idle timer fires just then; 0: never")
	fs.BoolVar(&allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	var unique string
	fs.StringVar(&unique, "unique-property", "", "comma-separated names of custom line-item text properties with unique values to add")
	fs.BoolVar(&o.config.UniqueCaseInsensitive, "unique-case-insensitive", false, "treat unique values that differ only in letter case as equal")
	fs.BoolVar(&o.config.BatchReadNoneFound404, "batch-read-none-found-404", false, "answer a batch read (of line items or association targets, v3 or 2026-09) that finds none of its inputs with a 404 OBJECT_NOT_FOUND instead of a 207 (2026-09: 200)")
	fs.BoolVar(&o.config.ConflictPerRow, "conflict-per-row", false, "answer a batch create or upsert input whose unique value is taken with its own 207 CONFLICT error instead of failing the batch with a 409")
	fs.StringVar(&o.config.ConflictAs, "conflict-as", "", "the form of a unique-value conflict: \"\" (a CONFLICT: a 409, or per input), OBJECT_ALREADY_EXISTS (the same with that category and a detail naming the property), or VALIDATION_ERROR (a 400, or per input, saying in words only that the value is taken)")
	fs.BoolVar(&o.config.CreateOmitsTraceID, "create-omits-trace-id", false, "leave objectWriteTraceId out of batch create results (clients must match results by the values they echo, or leave the rows in doubt)")
	fs.BoolVar(&o.config.EchoNormalized, "echo-normalized", false, "batch create results echo numbers in shortest form and dates as epoch milliseconds, not as sent")
	fs.BoolVar(&o.config.UpsertOmitsTraceID, "upsert-omits-trace-id", false, "leave objectWriteTraceId out of batch upsert results (clients must match results by the idProperty value)")
	fs.BoolVar(&o.config.MultiStatus2026, "multi-status-2026", false, "answer 2026-09 batches with failed inputs 207 like v3/v4, instead of 201/200 with errors in the body as the 2026-09 specs document")
	fs.StringVar(&o.config.ErrorForms, "error-forms", "", "the form of error bodies' context: \"\" (an object of string lists, as the specs' schemas), text (the Java map text the specs' examples show) or loose (a list of one value as that value, and a subCategory object in per-input errors)")
	fs.BoolVar(&o.config.GranularScopeSuffices2026, "granular-scope-suffices-2026", false, "let the 2026-09 line item endpoints accept the line item scope alone, instead of requiring it together with e-commerce as the 2026-09 lineItems.json lists them")
	fs.BoolVar(&o.config.AssociationsBurstExempt, "associations-burst-exempt", false, "exempt association batch creates from the ten-secondly window, as associations.json's x-hubspot-rate-limit-exemptions says, instead of counting them like batch create")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to `file`")
	fs.StringVar(&o.reportJSON, "report-json", "", "on shutdown, write the final counts as JSON to `file`")
	fs.StringVar(&o.distinct, "distinct", "hs_sku", "property whose distinct values --report-json counts (to find duplicates)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	switch o.config.ConflictAs {
	case emulator.ConflictCategory, emulator.ConflictAlreadyExists, emulator.ConflictValidation:
	default:
		return nil, fmt.Errorf("--conflict-as %q: want \"\", %s or %s", o.config.ConflictAs, emulator.ConflictAlreadyExists, emulator.ConflictValidation)
	}
	switch o.config.ErrorForms {
	case "", emulator.ErrorFormText, emulator.ErrorFormLoose:
	default:
		return nil, fmt.Errorf("--error-forms %q: want \"\", %s or %s", o.config.ErrorForms, emulator.ErrorFormText, emulator.ErrorFormLoose)
	}
	if o.config.Token == "" {
		return nil, errors.New("--token is required")
	}
	if scopes != "" {
		o.config.Scopes = splitList(scopes)
	}
	if unique != "" {
		o.unique = splitList(unique)
	}
	var err error
	if o.faults.ErrorStatuses, err = parseStatuses(errStatuses); err != nil {
		return nil, fmt.Errorf("--error-statuses: %w", err)
	}
	if o.faults.CommitThenStatuses, err = parseStatuses(ctStatus); err != nil {
		return nil, fmt.Errorf("--commit-then-statuses: %w", err)
	}
	for name, rate := range map[string]float64{"--error-rate": o.faults.ErrorRate, "--rate-limit-rate": o.faults.RateLimitRate,
		"--commit-then-drop": o.faults.CommitThenDrop, "--commit-then-error-rate": o.faults.CommitThenErrorRate, "--commit-then-row-error-rate": o.faults.CommitThenRowErrorRate} {
		if rate < 0 || rate > 1 {
			return nil, fmt.Errorf("%s must be between 0 and 1", name)
		}
	}
	if seedDeals != "" {
		ids, err := parseIDs(seedDeals)
		if err != nil {
			return nil, fmt.Errorf("--seed-deals: %w", err)
		}
		o.seeds = append(o.seeds, seed{"deals", ids})
	}
	for _, s := range seeds {
		if !validObjectType(s.objectType) {
			return nil, fmt.Errorf("--seed-objects: unknown object type %q", s.objectType)
		}
		o.seeds = append(o.seeds, s)
	}
	o.config.SeedUnique = seedUnique
	if !allowRemote {
		if err := requireLoopback(o.addr); err != nil {
			return nil, err
		}
	}
	return &o, nil
}

func validObjectType(t string) bool {
	switch t {
	case "deals", "quotes", "invoices", "orders", "carts", "subscriptions", "payments", "discounts":
		return true
	}
	return false
}

// requireLoopback refuses addresses that listen beyond this machine.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on non-loopback address %q; pass --allow-remote to do so", addr)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseStatuses(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("invalid status %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseIDs expands "1001-1003,2000" to 1001, 1002, 1003, 2000.
func parseIDs(s string) ([]string, error) {
	var out []string
	for _, part := range splitList(s) {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			if _, err := strconv.ParseUint(part, 10, 64); err != nil {
				return nil, fmt.Errorf("invalid id %q", part)
			}
			out = append(out, part)
			continue
		}
		a, errA := strconv.ParseUint(lo, 10, 64)
		b, errB := strconv.ParseUint(hi, 10, 64)
		if errA != nil || errB != nil || a > b || b-a >= 100_000 {
			return nil, fmt.Errorf("invalid id range %q", part)
		}
		for i := a; i <= b; i++ {
			out = append(out, strconv.FormatUint(i, 10))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no ids")
	}
	return out, nil
}
