#!/usr/bin/env bash
# Run each fuzz target in turn (one at a time: the machine is shared) for
# SECONDS each (default 610), with libFuzzer's memory and time limits, and
# print one line of figures per target. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-610}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(check containers uwsgi nginx values)
[ -d corpus ] || python3 seeds.py
mkdir -p logs artifacts
# Built once: the binaries fuzzed are the ones of this commit, even if the
# sources change during the campaign (FUZZ_NO_BUILD=1: as built already).
[ -n "${FUZZ_NO_BUILD:-}" ] || nice -n 10 cargo +nightly fuzz build -s none || exit 1
bin=target/x86_64-unknown-linux-gnu/release
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  start=$(date +%s)
  # libFuzzer's own time-out handler can hang (it stopped once without
  # writing the input): the whole run is killed well after its time.
  timeout -s KILL $((secs + 120)) nice -n 10 "$bin/$t" "corpus/$t" \
    -max_total_time="$secs" -rss_limit_mb=512 -timeout=1 -max_len=16384 \
    -dict=uwsgi.dict -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
    > "logs/$t.log" 2>&1
  rc=$?
  end=$(date +%s)
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1)
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "logs/$t.log" | grep -oE '[0-9]+$')
  eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "logs/$t.log" | grep -oE '[0-9]+$')
  rss=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "logs/$t.log" | grep -oE '[0-9]+$')
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+')
  echo "$t rc=$rc time=$((end - start))s runs=${runs:-?} exec/s=${eps:-?} cov=${cov:-?} ft=${ft:-?} peak_rss_mb=${rss:-?} crashes=$(ls "artifacts/$t" | wc -l)" | tee -a logs/summary.txt
done
