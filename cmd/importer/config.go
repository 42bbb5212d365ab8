package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/lineitems/importer/internal/command"
	"github.com/lineitems/importer/internal/hubspot"
	"github.com/lineitems/importer/internal/rows"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errHelp is returned when -h or --help was asked for; it exits 0.
var errHelp = flag.ErrHelp

// config is everything the command line and environment say: the run's
// Config, and what only main uses.
type config struct {
	command.Config
	logFormat     string
	logLevel      string
	tokenFile     string
	version       bool
	cpuProfile    string
	restart       bool // refused: see parseConfig
	delimiter     string
	mode          string // --mode: create or upsert
	duplicateKeys string
	apiVersion    string
}

const usageText = `Usage: importer [flags] FILE.csv
       importer validate [flags] FILE.csv
       importer init-mapping [flags] FILE.csv > mapping.yaml

Loads a CSV file into HubSpot as line items, in batches of up to 100,
and writes created.csv, failed.csv, in_doubt.csv, not_sent.csv and
summary.json.
FILE "-" reads standard input.

validate checks every row against the mapping and the portal's property
definitions and writes failed.csv, sending nothing: exit 0 when every row
would be accepted, 3 when some would not, 1 on a fatal problem.
init-mapping prints a starting mapping for the file's header, matched to
the portal's properties when the token may read them.

Every run into a portal remembers, in --out, the rows it sent there, by
key (with --key-property) or by content: running the command again, on
the same file or on tomorrow's export that repeats some of today's rows,
sends only the rows not imported yet, and looks up the rows an
interrupted run left in doubt.

Examples:
  importer --sandbox --mapping samples/mapping.yaml samples/line_items.csv
  HUBSPOT_ACCESS_TOKEN=pat-... importer --mapping mapping.yaml --out run1/ line_items.csv
  importer --key-property import_key --mapping mapping.yaml line_items.csv
  importer --dry-run --mapping mapping.yaml line_items.csv
  importer validate --mapping mapping.yaml line_items.csv
  importer init-mapping line_items.csv > mapping.yaml

Environment:
  HUBSPOT_ACCESS_TOKEN  private app access token (or --token-file)
  HUBSPOT_BASE_URL      API root (or --base-url)
  IMPORTER_<FLAG>       any flag below, e.g. IMPORTER_RATE=5, IMPORTER_KEY_PROPERTY=import_key,
                        IMPORTER_LOG_FORMAT=json; a flag on the command line wins

Exit codes: 0 all rows created, 3 some rows failed or are in doubt,
1 fatal error, 2 usage error, 75 another run is using --out, or HubSpot
did not answer the reads before the import (nothing sent: try again
later), or the input was written over, or still being written, while it
was read (try again once it is complete), 130 interrupted.

Flags:
`

// parseConfig reads flags and environment. Problems are *usageError values.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	if len(args) > 0 && args[0] == "help" {
		args = []string{"-h"} // the flag package prints the usage
	}
	if len(args) > 0 && (args[0] == command.Validate || args[0] == command.InitMapping) {
		c.Command, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("importer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	baseDefault := hubspot.DefaultBaseURL
	if v := getenv("HUBSPOT_BASE_URL"); v != "" {
		baseDefault = v
	}
	fs.StringVar(&c.MappingPath, "mapping", "", "YAML mapping `file`; without it every column maps to the property of the same name")
	fs.StringVar(&c.BaseURL, "base-url", baseDefault, "API root `URL` (env HUBSPOT_BASE_URL); plain http only to loopback hosts")
	fs.StringVar(&c.OutDir, "out", "", "report `folder` (default: the input's name with .import, e.g. line_items.import/)")
	fs.Float64Var(&c.Rate, "rate", 9, "requests per second at most, counted per rolling 10 s (9 = 90 per 10 s, under the smallest portal's 100); 0: only HubSpot's limit")
	fs.IntVar(&c.DailyReserve, "daily-reserve", 0, "stop cleanly when the portal's daily quota is down to `N` requests, leaving them to other integrations")
	fs.IntVar(&c.Workers, "workers", 192, "requests in flight at most (enough for a whole window of 190 when HubSpot takes seconds to answer)")
	fs.IntVar(&c.BatchSize, "batch-size", hubspot.MaxBatchInputs, "rows per request, 1 to 100")
	fs.BoolVar(&c.Sandbox, "sandbox", false, "import into a built-in HubSpot emulator on a loopback port (no token, no network)")
	fs.BoolVar(&c.DryRun, "dry-run", false, "read, map and batch everything and write the reports and batches.jsonl; send nothing")
	fs.StringVar(&c.logFormat, "log-format", "auto", "console or json (default: console on a terminal, json otherwise)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the access token from `file` instead of HUBSPOT_ACCESS_TOKEN")
	fs.DurationVar(&c.Timeout, "timeout", 60*time.Second, "time limit of one HTTP request")
	fs.IntVar(&c.MaxAttempts, "max-attempts", 8, "sends per batch, and reads per lookup, at most, when HubSpot did not process them (429, 423, network)")
	fs.BoolVar(&c.RetryRejected, "retry-rejected", false, "send again rows whose very content HubSpot rejected in an earlier run (for when the portal was what was wrong, e.g. a deal created since)")
	fs.BoolVar(&c.RetryInDoubt, "retry-in-doubt", false, "resend batches that got no clear answer (500/502/503/504, timeouts); may create duplicates")
	fs.StringVar(&c.mode, "mode", "create", "create (every row a new line item) or upsert (create or update the line item whose --key-property holds the row's key)")
	fs.StringVar(&c.duplicateKeys, "duplicate-keys", "fail", "rows that share a key: fail (the later ones fail as DUPLICATE_KEY) or last-wins (only the last is sent; the others go to superseded.csv)")
	fs.StringVar(&c.apiVersion, "api-version", "v3", "HubSpot API generation: v3 (/crm/v3/..., v4 associations) or 2026-09 (/crm/objects/2026-09/...)")
	fs.StringVar(&c.KeyProperty, "key-property", "", "unique line-item `property` that stores the mapping's key; rows without a clear answer are looked up by it, so none is lost or created twice")
	fs.StringVar(&c.KeyColumnRenamedFrom, "key-column-renamed-from", "", "the `column` earlier runs into --out took keys from, when the mapping's key: column is that column renamed (the same keys under a new header)")
	fs.DurationVar(&c.WaitLock, "wait-lock", 0, "when another run is using --out, wait up to `duration` for it to finish (default: exit at once with code 75)")
	fs.BoolVar(&c.restart, "restart", false, "removed: rows are now recognised by key or content across runs and files (see docs/guarantees.md)")
	fs.DurationVar(&c.LookupDelay, "lookup-delay", 0, "wait before looking up rows without a clear answer (lookups read the records themselves, so none is needed)")
	fs.StringVar(&c.delimiter, "delimiter", "", "the input's delimiter: , ; tab or | (default: detected from the header)")
	fs.StringVar(&c.CSV.Encoding, "encoding", "", "the input's `encoding`, e.g. windows-1252, iso-8859-1, utf-16le (default: UTF-8, or UTF-16 by its byte order mark)")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the run to `file`")
	fs.StringVar(&c.SummaryJSON, "summary-json", "", "also write the summary as JSON to `path` (- for standard output; the human summary then goes to standard error)")
	if err := applyEnv(fs, getenv); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, &usageError{err.Error()}
	}
	if c.version {
		return c, nil
	}
	if c.MappingPath != "" {
		if err := applyMappingSettings(fs, c.MappingPath, getenv); err != nil {
			return nil, err
		}
	}
	if fs.NArg() > 0 && (fs.Arg(0) == command.Validate || fs.Arg(0) == command.InitMapping) {
		return nil, &usageError{fmt.Sprintf("the command goes first: importer %s [flags] FILE.csv (got %q after flags)", fs.Arg(0), fs.Arg(0))}
	}
	if fs.NArg() > 1 && strings.HasPrefix(fs.Arg(1), "-") && fs.Arg(1) != "-" {
		return nil, &usageError{fmt.Sprintf("flags go before the file: importer [flags] FILE.csv (got %q after %s)", fs.Arg(1), fs.Arg(0))}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, &usageError{fmt.Sprintf("want exactly one input file, got %d arguments", fs.NArg())}
	}
	c.Input = fs.Arg(0)
	switch {
	case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return nil, &usageError{fmt.Sprintf("--rate %v is not a number of requests a second (0 means no cap of your own)", c.Rate)}
	case c.Rate < 0:
		return nil, &usageError{"--rate must not be negative"}
	case c.Rate > 0 && c.Rate < 0.1:
		return nil, &usageError{fmt.Sprintf("--rate %v is below 0.1, one request per 10 s, the least the pacer counts in (its window is 10 s): use 0.1 or more, or 0 for no cap of your own", c.Rate)}
	case c.Workers < 1:
		return nil, &usageError{"--workers must be at least 1"}
	case c.Workers > maxWorkers:
		return nil, &usageError{fmt.Sprintf("--workers %d is more than %d: HubSpot's rate limit, not the workers, bounds the speed, and each worker holds a batch in memory", c.Workers, maxWorkers)}
	case c.BatchSize < 1 || c.BatchSize > hubspot.MaxBatchInputs:
		return nil, &usageError{fmt.Sprintf("--batch-size must be between 1 and %d", hubspot.MaxBatchInputs)}
	case c.MaxAttempts < 1 || c.MaxAttempts > maxAttempts:
		return nil, &usageError{fmt.Sprintf("--max-attempts must be between 1 and %d", maxAttempts)}
	case c.Timeout <= 0 || c.Timeout > maxWait:
		return nil, &usageError{fmt.Sprintf("--timeout must be positive and at most %s", maxWait)}
	case c.DailyReserve < 0:
		return nil, &usageError{"--daily-reserve must not be negative"}
	case c.LookupDelay < 0 || c.LookupDelay > maxWait:
		return nil, &usageError{fmt.Sprintf("--lookup-delay must be between 0 and %s", maxWait)}
	case c.WaitLock < 0:
		return nil, &usageError{"--wait-lock must not be negative"}
	case c.restart:
		return nil, &usageError{"--restart is gone: the importer now recognises rows by their key or their content across runs and input files, " +
			"so an edited file or mapping simply runs, sending only what was not imported yet. To send rows in doubt again without a lookup, " +
			"use --retry-in-doubt (it may create duplicates). To forget everything sent to a portal, delete the folder portal-<id> in --out " +
			"(every row is then sent again, creating duplicates of those that exist)"}
	case c.logFormat != "auto" && c.logFormat != "console" && c.logFormat != "json":
		return nil, &usageError{"--log-format must be console or json"}
	case c.mode != "create" && c.mode != "upsert":
		return nil, &usageError{fmt.Sprintf("--mode %q: use create or upsert", c.mode)}
	case c.duplicateKeys != "fail" && c.duplicateKeys != "last-wins":
		return nil, &usageError{fmt.Sprintf("--duplicate-keys %q: use fail or last-wins", c.duplicateKeys)}
	case c.duplicateKeys == "last-wins" && c.KeyProperty == "":
		return nil, &usageError{"--duplicate-keys last-wins needs --key-property: rows are told apart by their key"}
	case c.duplicateKeys == "last-wins" && c.Input == "-":
		return nil, &usageError{"--duplicate-keys last-wins reads the input twice (first for each key's last row): give a file, not standard input"}
	case c.mode == "upsert" && c.KeyProperty == "":
		return nil, &usageError{"--mode upsert needs --key-property: the unique line-item property whose value (the mapping's key column) names each row's line item"}
	case c.mode == "upsert" && c.RetryInDoubt:
		return nil, &usageError{"--retry-in-doubt has no use with --mode upsert: an upsert without a clear answer is always sent again, which cannot create a duplicate"}
	}
	c.Upsert = c.mode == "upsert"
	c.LastWins = c.duplicateKeys == "last-wins"
	v, err := hubspot.ParseAPIVersion(c.apiVersion)
	if err != nil {
		return nil, &usageError{"--api-version: " + err.Error()}
	}
	c.APIVersion = v
	if err := c.csvOptions(); err != nil {
		return nil, err
	}
	if c.Command == command.Validate {
		c.DryRun = true
	}
	if c.OutDir == "" {
		c.OutDir = command.DefaultOutDir(c.Input, c.Command, c.DryRun)
	}
	if c.Sandbox {
		return c, nil
	}
	if _, err := hubspot.ValidateBaseURL(c.BaseURL); err != nil {
		return nil, err // fatal, not a usage error: the flags are well formed
	}
	tok, err := loadToken(c.tokenFile, getenv)
	if err != nil {
		// A dry run and init-mapping work without a token, without the portal's checks.
		if (c.Command == command.InitMapping || (c.DryRun && c.Command != command.Validate)) && errors.Is(err, errNoToken) {
			return c, nil
		}
		return nil, err
	}
	c.Token = tok
	return c, nil
}

// csvOptions checks --delimiter and --encoding into c.CSV.
func (c *config) csvOptions() error {
	switch d := c.delimiter; {
	case d == "":
	case d == "tab" || d == `\t` || d == "\t":
		c.CSV.Delimiter = '\t'
	case utf8.RuneCountInString(d) == 1:
		c.CSV.Delimiter, _ = utf8.DecodeRuneInString(d)
	default:
		return &usageError{fmt.Sprintf("--delimiter %q: give one character, such as , ; | or tab", d)}
	}
	if _, err := rows.NewReaderOptions(strings.NewReader("a\n"), c.CSV); err != nil {
		return &usageError{fmt.Sprintf("%v", err)}
	}
	return nil
}

// envName is the environment variable that sets a flag: IMPORTER_ and the
// flag's name in upper case with - as _.
func envName(flagName string) string {
	return "IMPORTER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets flags from IMPORTER_* variables before the command line is
// parsed, so that flags given on the command line win.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || f.Name == "version" {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = &usageError{fmt.Sprintf("%s=%q: %v", envName(f.Name), v, e)}
			}
		}
	})
	return err
}

// mappingSettings are the flags a mapping file's settings section may set:
// settings about the data and its pace. Never where the token goes
// (base-url, token-file), where files are written (out, cpuprofile,
// summary-json) or what is discarded or risked (restart, retry-in-doubt):
// a mapping file is data that may come from someone else.
var mappingSettings = []string{"api-version", "batch-size", "daily-reserve", "key-property", "lookup-delay", "max-attempts", "mode", "rate", "timeout", "workers"}

// applyMappingSettings sets flags from the mapping file's settings section,
// unless the command line or an IMPORTER_* variable set them.
func applyMappingSettings(fs *flag.FlagSet, path string, getenv func(string) string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--mapping: %w", err) // fatal: the file is missing or unreadable
	}
	var doc struct {
		Settings map[string]string `yaml:"settings"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil // mapping.Load reports a malformed file with its line numbers
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range slices.Sorted(maps.Keys(doc.Settings)) {
		switch {
		case fs.Lookup(name) == nil:
			return &usageError{fmt.Sprintf("%s: settings: %q is not a setting; a mapping may set %s", path, name, strings.Join(mappingSettings, ", "))}
		case !slices.Contains(mappingSettings, name):
			return &usageError{fmt.Sprintf("%s: settings: %q cannot be set in a mapping file. A mapping is data, and may carry only settings about the data (%s); "+
				"where the token goes, where reports are written and what is discarded are for the command line or IMPORTER_* variables", path, name, strings.Join(mappingSettings, ", "))}
		case given[name] || getenv(envName(name)) != "":
			continue
		}
		if err := fs.Set(name, doc.Settings[name]); err != nil {
			return &usageError{fmt.Sprintf("%s: settings: %s: %v", path, name, err)}
		}
	}
	return nil
}

// Bounds of settings that a typo (or a mapping's settings:) could make
// large enough to exhaust memory or stall every run: a worker holds a
// batch in memory, and a run waits out its timeouts and lookup delays.
const (
	maxWorkers  = 1024
	maxAttempts = 100
	maxWait     = 30 * time.Minute
)

// errNoToken is a missing token: fatal (exit 1), except for a dry run and
// init-mapping, which work without one.
var errNoToken = errors.New("no access token: set HUBSPOT_ACCESS_TOKEN or give --token-file (or use --sandbox or --dry-run)")

// loadToken reads the token from the file (without a UTF-8 byte order
// mark, as Notepad writes, and surrounding white space), else the
// environment, without a leading "Bearer " (as copied from a header). A token with a character an HTTP header cannot carry (a
// line break or another control character inside it) is refused: no
// request could be sent with it, and retrying would not help. The error
// never contains the token. Errors are fatal, not usage errors.
func loadToken(file string, getenv func(string) string) (hubspot.Token, error) {
	from, s := "HUBSPOT_ACCESS_TOKEN", strings.TrimSpace(getenv("HUBSPOT_ACCESS_TOKEN")) // a Secret made from a file ends with a line break
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			if looksLikeToken(file) {
				// A token given where its file's name goes: not echoed.
				return hubspot.Token{}, errors.New("--token-file names a file to read the token from, and was given what looks like a token itself: put the token in a file, or in HUBSPOT_ACCESS_TOKEN")
			}
			return hubspot.Token{}, fmt.Errorf("--token-file: %w", err)
		}
		from, s = "--token-file "+file, strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
		if s == "" {
			return hubspot.Token{}, fmt.Errorf("--token-file %s is empty", file)
		}
	}
	if scheme, rest, ok := strings.Cut(s+" ", " "); ok && strings.EqualFold(scheme, "Bearer") {
		// Copied with its scheme from an Authorization header: the client
		// adds the scheme, and HubSpot would reject "Bearer Bearer …".
		s = strings.TrimSpace(rest)
		if s == "" {
			return hubspot.Token{}, fmt.Errorf("the access token in %s is the word Bearer alone", from)
		}
	}
	if s == "" {
		return hubspot.Token{}, errNoToken
	}
	for i, c := range s {
		if c < 0x20 || c == 0x7f {
			return hubspot.Token{}, fmt.Errorf("the access token in %s has a control character at byte %d (a line break?): a token is one line of printable characters", from, i+1)
		}
	}
	return hubspot.NewToken(s), nil
}

// looksLikeToken reports whether s, a --token-file value that is no file,
// looks like a HubSpot access token (a private app's "pat-…", or a long
// word without a path separator or an extension).
func looksLikeToken(s string) bool {
	return strings.HasPrefix(s, "pat-") || len(s) >= 30 && !strings.ContainsAny(s, `/\.`)
}
