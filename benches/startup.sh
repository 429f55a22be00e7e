#!/usr/bin/env bash
# Start-up time (spawn → first 200 from /_vlsim/health, on a fresh and on a warm data dir)
# and idle resident memory of the release binary. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# VLSIM_BIN picks another build (e.g. of another profile) to measure.
BIN=${VLSIM_BIN:-$PWD/target/release/vlsim}
[ -n "${VLSIM_BIN:-}" ] || [ -x "$BIN" ] || cargo build --release --locked --bin vlsim
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
measure() { # data dir → sets MS (ms to healthy) and PID
  local dir=$1 start now url=""
  start=$(date +%s%N)
  : > "$WORK/url"
  VLSIM_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$dir" > "$WORK/url" 2>/dev/null &
  PID=$!
  while :; do
    if [ -z "$url" ] && [ -s "$WORK/url" ]; then url=$(sed 's/^vlsim listening on //' "$WORK/url"); fi
    if [ -n "$url" ] && curl -sf -o /dev/null "$url/_vlsim/health"; then break; fi
    sleep 0.001
  done
  now=$(date +%s%N)
  MS=$(( (now - start) / 1000000 ))
}
measure "$WORK/data"; fresh=$MS; sleep 1
rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
kill -TERM $PID; wait $PID || true
measure "$WORK/data"; warm=$MS; kill -TERM $PID; wait $PID || true
echo "start to healthy: ${fresh} ms (fresh data dir: fixtures loaded, keys parsed), ${warm} ms (existing data dir)"
echo "idle RSS: $((rss / 1024)) MiB"
