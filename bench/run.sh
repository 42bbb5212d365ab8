#!/usr/bin/env bash
# bench/run.sh: measures the importer against the HubSpot emulator and
# HubSpot's official Node.js client, prints a table and writes
# bench/out/results.md (lines ready for BENCHMARKS.md).
#
# Usage: bench/run.sh [all|pipeline|ceiling|long|shared|shared-completion|completion|peer]   (default: all)
#        completion: the ceiling counted at completion only, 1s and 4s, over 7 and 6.5 windows
# Env:   BENCH_ROWS_SMALL (1000000), BENCH_ROWS_LARGE (5000000), BENCH_WORKERS (192, the default),
#        BENCH_REPEAT (3: runs of each pipeline size),
#        BENCH_EMULATOR_ARGS (more emulator switches for every run, e.g. "--connect-delay 150ms")
#
# Needs Go, Node.js with npm, and /usr/bin/time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
BIN=$OUT/bin
what=${1:-all}
ROWS_SMALL=${BENCH_ROWS_SMALL:-1000000}
ROWS_LARGE=${BENCH_ROWS_LARGE:-5000000}
WORKERS=${BENCH_WORKERS:-192}
REPEAT=${BENCH_REPEAT:-3}
EMULATOR_ARGS=${BENCH_EMULATOR_ARGS:-}
TOKEN=bench-token
PORT=18477
BASE=http://127.0.0.1:$PORT

mkdir -p "$OUT" "$BIN"
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time" >&2
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi
echo "== building" >&2
go build -o "$BIN/importer" ./cmd/importer
go build -o "$BIN/emulator" ./cmd/hubspot-emulator
go build -o "$BIN/gencsv" ./cmd/gencsv
go build -o "$BIN/csvfloor" ./bench/csvfloor
go build -o "$BIN/otherapp" ./bench/otherapp
go build -o "$BIN/tabulate" ./bench/tabulate

EMU_PID=
# start_emulator DIR ARGS...: the emulator under /usr/bin/time, its report in DIR.
start_emulator() {
  local dir=$1; shift
  /usr/bin/time -v -o "$dir/emulator.time" "$BIN/emulator" --addr 127.0.0.1:$PORT --token $TOKEN \
    --seed-deals 1001-1020 --unique-property import_key --report-json "$dir/emulator.json" $EMULATOR_ARGS "$@" >"$dir/emulator.log" 2>&1 &
  EMU_PID=$!
  for _ in $(seq 100); do
    grep -q listening "$dir/emulator.log" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "emulator did not start" >&2; cat "$dir/emulator.log" >&2; exit 1
}
stop_emulator() {
  # Signal the emulator under the time wrapper; it writes its report and exits.
  pkill -TERM -P "$EMU_PID" 2>/dev/null || true
  wait "$EMU_PID" 2>/dev/null || true
  EMU_PID=
}
trap 'if [ -n "$EMU_PID" ]; then pkill -P "$EMU_PID" 2>/dev/null || true; fi' EXIT

# import DIR FILE ARGS...: one importer run under /usr/bin/time.
import() {
  local dir=$1 file=$2; shift 2
  rm -rf "$dir/out"
  HUBSPOT_ACCESS_TOKEN=$TOKEN /usr/bin/time -v -o "$dir/importer.time" "$BIN/importer" --base-url $BASE \
    --mapping samples/mapping.yaml --out "$dir/out" --log-format json "$@" "$file" >"$dir/importer.stdout" 2>"$dir/importer.log" || true
  cp "$dir/out/summary.json" "$dir/importer.json"
}

gen() { # gen ROWS FILE
  [ -s "$2" ] || "$BIN/gencsv" --rows "$1" --seed 42 >"$2"
}

pipeline() {
  # Each size is imported REPEAT times: this machine's speed varies from one
  # minute to the next, and the table gives every run and their median.
  for rows in $ROWS_SMALL $ROWS_LARGE; do
    local base=$OUT/pipeline-$rows file=$OUT/rows-$rows.csv
    rm -rf "$base"
    mkdir -p "$base"
    gen "$rows" "$file"
    "$BIN/csvfloor" "$file" >"$base/csvfloor.json"
    for k in $(seq "$REPEAT"); do
      local dir=$base/run-$k
      mkdir -p "$dir"
      echo "== pipeline: $rows rows into an unlimited emulator (run $k of $REPEAT)" >&2
      start_emulator "$dir" --rate-max -1
      import "$dir" "$file" --rate 0 --workers "$WORKERS"
      stop_emulator
      rm -rf "$dir/out" # the reports of millions of rows; the summary is kept
    done
  done
}

# latency_args L: the emulator's answer times for a latency label. 0 is
# instant; 1s is uniform in 0.5-1.5 s (HubSpot often takes a second for 100
# creates); 4s is uniform in 3-5 s.
latency_args() {
  case $1 in
    0) ;;
    1s) echo --latency 500ms --latency-max 1500ms ;;
    4s) echo --latency 3s --latency-max 5s ;;
    *) echo "unknown latency $1" >&2; exit 2 ;;
  esac
}

ceiling() {
  # Both of the emulator's counting models: on arrival at the gateway, and
  # when the answer is ready.
  for lat in 0 1s 4s; do
    for model in arrival completion; do
      ceiling_one 190 "$lat" "$model"
    done
  done
  ceiling_one 100 0 arrival
  long
  shared
}

long() {
  # 31 windows' worth of calls counted at completion: how the share of the
  # ceiling grows once the first window's burst has spread out. And 6.5
  # windows: with every window full to the last call (7 or 31), one 429
  # (the call sent again) costs a whole window more.
  for lat in 1s 4s; do
    ceiling_one 190 "$lat" completion 31
    ceiling_one 190 "$lat" completion 6.5
  done
}

ceiling_one() {
  # 7 windows' worth of calls, counting the account and property reads at
  # the start: a perfect client sends the last call at 60 s (call k + Max
  # one window after call k) and waits for its answer.
  # WINDOWS may be a fraction (6.5): the last window then is not full, and
  # a request sent again (after a 429) fits in it, as in most real runs.
  local max=$1 lat=$2 model=$3 windows=${4:-7} rows dir file args
  rows=$(awk -v w="$windows" -v m="$max" 'BEGIN { printf "%d", (int(w * m) - 2) * 100 }')
  dir=$OUT/ceiling-$max-$lat-$model file=$OUT/rows-$rows.csv
  if [ "$windows" != 7 ]; then dir=$dir-$windows; fi
  mkdir -p "$dir"
  echo "== ceiling: $max per 10 s, latency $lat, counted on $model, $rows rows, --rate 50 (above the limit)" >&2
  gen "$rows" "$file"
  read -r -a args <<<"$(latency_args "$lat")"
  if [ "$model" = completion ]; then args+=(--count-at-completion); fi
  start_emulator "$dir" --rate-max "$max" --rate-interval 10s "${args[@]}"
  import "$dir" "$file" --rate 50 --workers "$WORKERS"
  stop_emulator
}

shared() {
  # Another app starts using half of the portal's limit 20 s into the run;
  # answers take 0.5-1.5 s, counted on arrival (or, with the argument
  # completion, when the answer is ready: bench/out/shared-190-completion,
  # which the tables leave out).
  local max=190 dir=$OUT/shared-190 rows=$((12 * 190 * 100)) file args
  file=$OUT/rows-$rows.csv
  read -r -a args <<<"$(latency_args 1s)"
  if [ "${1:-}" = completion ]; then dir=$dir-completion; args+=(--count-at-completion); fi
  mkdir -p "$dir"
  echo "== shared: $max per 10 s, latency 1s, another app takes half from 20 s on ${1:-}" >&2
  gen "$rows" "$file"
  start_emulator "$dir" --rate-max "$max" --rate-interval 10s "${args[@]}"
  "$BIN/otherapp" --base-url $BASE --token $TOKEN --per-10s $((max / 2)) --after 20s --for 600s >"$dir/otherapp.json" &
  local other=$!
  import "$dir" "$file" --rate 50 --workers "$WORKERS"
  kill -TERM $other 2>/dev/null || true
  wait $other 2>/dev/null || true
  stop_emulator
}

peer() {
  echo "== installing the Node.js peer" >&2
  (cd bench/peer && npm ci --no-audit --no-fund >/dev/null)
  # 40,000 rows, answers taking 0.5-1.5 s (counted on arrival).
  local max=190 rows=40000 file lat
  file=$OUT/rows-$rows.csv
  gen "$rows" "$file"
  read -r -a lat <<<"$(latency_args 1s)"
  for faults in none gateway; do
    local args=(--rate-max "$max" --rate-interval 10s "${lat[@]}") extra=()
    if [ $faults = gateway ]; then
      # 3% of calls fail before the batch is committed, 2% after it.
      args+=(--error-rate 0.03 --error-statuses 500,502,503 --commit-then-error-rate 0.02 --commit-then-statuses 502,504)
      extra=(--key-property import_key)
    fi
    local dir=$OUT/peer-$faults-importer
    mkdir -p "$dir"
    echo "== side by side ($faults): the importer" >&2
    start_emulator "$dir" "${args[@]}"
    import "$dir" "$file" --rate 50 --workers "$WORKERS" "${extra[@]}"
    stop_emulator
    dir=$OUT/peer-$faults-node
    mkdir -p "$dir"
    echo "== side by side ($faults): @hubspot/api-client" >&2
    start_emulator "$dir" "${args[@]}"
    /usr/bin/time -v -o "$dir/peer.time" node bench/peer/import.js --base-url $BASE --token $TOKEN \
      --input "$file" --out "$dir/peer.json" >"$dir/peer.log" 2>&1 || true
    stop_emulator
  done
}

case $what in
  all) pipeline; ceiling; peer ;;
  pipeline) pipeline ;;
  ceiling) ceiling ;;
  long) long ;;
  shared) shared ;;
  shared-completion) shared completion ;;
  completion) for lat in 1s 4s; do ceiling_one 190 "$lat" completion; ceiling_one 190 "$lat" completion 6.5; done ;;
  peer) peer ;;
  *) echo "usage: bench/run.sh [all|pipeline|ceiling|long|shared|shared-completion|completion|peer]" >&2; exit 2 ;;
esac

{
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(go version | cut -d' ' -f3); node $(node --version 2>/dev/null || echo none)"
  echo "Date: $(date -u +%Y-%m-%dT%H:%MZ); command: bench/run.sh $what"
} >"$OUT/machine.txt"
"$BIN/tabulate" "$OUT" | tee "$OUT/results.md"
