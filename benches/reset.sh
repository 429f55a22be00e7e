#!/usr/bin/env bash
# How long `POST /_vlsim/reset` takes with a working set in the store: before each reset,
# 1,000 FusionAuth refresh tokens (logins) and 10,000 events (failed SOAP logins) are
# created; then the reset is timed (curl's total time, loopback). Prints the distribution.
#
#   benches/reset.sh [--runs N] [--tokens N] [--events N]   (VLSIM_BIN picks another build)
#
# Needs the perf-profile build (cargo build --profile perf; built here), wrk, curl, python3. Asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=20 TOKENS=1000 EVENTS=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --tokens) TOKENS=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }
BIN=${VLSIM_BIN:-$PWD/target/perf/vlsim}
[ -n "${VLSIM_BIN:-}" ] || cargo build --profile perf --locked --bin vlsim
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

VLSIM_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" --journal-size 0 \
  > "$WORK/url" 2>/dev/null &
for _ in $(seq 200); do [ -s "$WORK/url" ] && break; sleep 0.05; done
URL=$(sed 's/^vlsim listening on //' "$WORK/url")

printf '{"loginId":"admin@vlsim.test","password":"password","applicationId":"20000000-0000-4000-8000-000000000001"}' > "$WORK/login.json"
printf '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>nobody</username><password><utf8String>eA==</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login></soapenv:Body></soapenv:Envelope>' > "$WORK/fail.xml"
counts() { curl -sf "$URL/_vlsim/state?limit=1" | python3 -c 'import json,sys; c=json.load(sys.stdin)["counts"]; print(c["fusionauth_refresh_tokens"], c["events"])'; }
fill() {
  local tokens events
  while read -r tokens events < <(counts) && [ "$tokens" -lt "$TOKENS" ]; do
    BENCH_METHOD=POST BENCH_BODY="$WORK/login.json" BENCH_CTYPE=application/json \
      BENCH_AUTH=vlsim-api-key BENCH_STOP_AFTER=$((TOKENS - tokens)) \
      wrk -t1 -c8 -d2s -s benches/request.lua "$URL/api/login" > /dev/null
  done
  while read -r tokens events < <(counts) && [ "$events" -lt "$EVENTS" ]; do
    BENCH_METHOD=POST BENCH_BODY="$WORK/fail.xml" BENCH_CTYPE="text/xml; charset=utf-8" \
      BENCH_STOP_AFTER=$((EVENTS - events)) \
      wrk -t1 -c8 -d2s -s benches/request.lua "$URL/view-vlsi/sdk" > /dev/null
  done
}

: > "$WORK/times"
for i in $(seq "$RUNS"); do
  fill
  [ "$i" -eq 1 ] && echo "stored before each reset: $(counts | awk '{print $1 " refresh tokens, " $2 " events"}')"
  sleep 0.3 # let the event buffer reach sled, as it does in use
  curl -sf -o /dev/null -w '%{time_total}\n' -X POST "$URL/_vlsim/reset" >> "$WORK/times"
done
python3 - "$WORK/times" <<'PY'
import statistics, sys
ms = sorted(float(l) * 1000 for l in open(sys.argv[1]) if l.strip())
q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
print(f"POST /_vlsim/reset over {len(ms)} runs: median {statistics.median(ms):.1f} ms, "
      f"min {ms[0]:.1f}, p90 {q(0.9):.1f}, max {ms[-1]:.1f} ms")
PY
