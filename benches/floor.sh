#!/usr/bin/env bash
# The floor on this machine: examples/floor_server (actix-web + vlsim's key code, nothing
# else) signing RS256 tokens and verifying them, driven exactly as benches/run.sh drives
# vlsim (server pinned to one core with one worker, wrk on the other; then a worker per
# core), beside openssl speed in the same run, and vlsim's own Generate and validate in the
# same run. The gap between floor and vlsim is what vlsim adds; the gap between floor and
# openssl is HTTP over loopback on this machine.
#
#   benches/floor.sh [--seconds N]
#
# Needs wrk, openssl, curl, python3. Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=5
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }
cargo build --release --locked --bin vlsim --example floor_server
BIN=$PWD/target/release/vlsim
FLOOR=$PWD/target/release/examples/floor_server
CORES=$(nproc)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

openssl speed -seconds 3 rsa2048 2>/dev/null > "$WORK/speed.txt"
RSA_SIGN=$(awk '/^rsa 2048 bits/ {print $6}' "$WORK/speed.txt")
RSA_VERIFY=$(awk '/^rsa 2048 bits/ {print $7}' "$WORK/speed.txt")
echo "openssl rsa2048, one core: sign/s=$RSA_SIGN verify/s=$RSA_VERIFY"

# launch PIN CMD... → sets URL and PID from the first stdout line ("... listening on URL")
launch() {
  local pin=$1; shift
  : > "$WORK/url"
  if [ -n "$pin" ]; then taskset -c "$pin" "$@" > "$WORK/url" 2>/dev/null &
  else "$@" > "$WORK/url" 2>/dev/null & fi
  PID=$!
  for _ in $(seq 200); do [ -s "$WORK/url" ] && break; sleep 0.05; done
  URL=$(sed 's/^.* listening on //' "$WORK/url")
}

# rate MODE CONNS URL → requests/s (BENCH_* env describes the request)
rate() {
  local pin_wrk=""
  if [ "$1" = one ] && [ "$CORES" -gt 1 ]; then pin_wrk="taskset -c 1"; fi
  $pin_wrk wrk -t1 -c"$2" -d"${SECONDS_PER_RUN}s" -s benches/request.lua "$3" \
    | grep '^BENCH_JSON' | sed 's/^BENCH_JSON //' \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.0f" % ((r["requests"]-r["non_2xx"]-r["socket_errors"])/r["seconds"]))'
}

soap() {
  printf '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' "$1"
}
soap '<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_Generate>' > "$WORK/generate.xml"
soap '<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>administrator</username><password><utf8String>dm13YXJl</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>' > "$WORK/login.xml"
printf '{"loginId":"admin@vlsim.test","password":"password","applicationId":"20000000-0000-4000-8000-000000000001"}' > "$WORK/fa-login.json"

printf '\n| path | workers | floor req/s | vlsim req/s | vlsim / floor | floor / limit | vlsim / limit |\n|---|---|---:|---:|---:|---:|---:|\n' > "$WORK/table"
for mode in one all; do
  if [ "$mode" = one ]; then workers=1; pin=0; mult=1; else workers=$CORES; pin=""; mult=$CORES; fi

  launch "$pin" "$FLOOR" "$workers"
  token=$(curl -sf -X POST "$URL/sign")
  export BENCH_METHOD=POST BENCH_BODY= BENCH_CTYPE= BENCH_COOKIE= BENCH_AUTH= BENCH_HEADER=
  floor_sign=$(rate "$mode" 16 "$URL/sign")
  export BENCH_METHOD=GET BENCH_AUTH="Bearer $token"
  floor_verify=$(rate "$mode" 32 "$URL/verify")
  kill "$PID"; wait "$PID" 2>/dev/null || true

  launch "$pin" env VLSIM_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data-$mode" \
    --workers "$workers" --journal-size 0
  cookie=$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: text/xml' --data-binary @"$WORK/login.xml" \
    "$URL/view-vlsi/sdk" | awk -F'[: ;]+' 'tolower($1)=="set-cookie" {print $2; exit}')
  export BENCH_METHOD=POST BENCH_CTYPE="text/xml; charset=utf-8" BENCH_BODY="$WORK/generate.xml" \
    BENCH_COOKIE="$cookie" BENCH_AUTH=
  vlsim_sign=$(rate "$mode" 16 "$URL/view-vlsi/sdk")
  access=$(curl -sf -X POST -H 'Authorization: vlsim-api-key' -H 'Content-Type: application/json' \
    --data-binary @"$WORK/fa-login.json" "$URL/api/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  export BENCH_METHOD=GET BENCH_CTYPE= BENCH_BODY= BENCH_COOKIE= BENCH_AUTH="Bearer $access"
  vlsim_verify=$(rate "$mode" 32 "$URL/api/jwt/validate")
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true

  python3 - "$mode" "$mult" "$RSA_SIGN" "$RSA_VERIFY" "$floor_sign" "$vlsim_sign" "$floor_verify" "$vlsim_verify" >> "$WORK/table" <<'PY'
import sys
mode, mult = sys.argv[1], int(sys.argv[2])
sign, verify, fs, vs, fv, vv = map(float, sys.argv[3:])
for name, limit, floor, vlsim in (("RS256 sign (vlsim: SOAP Generate)", sign * mult, fs, vs),
                                  ("RS256 verify (vlsim: /api/jwt/validate)", verify * mult, fv, vv)):
    print(f"| {name} | {mode} | {floor:,.0f} | {vlsim:,.0f} | {vlsim / floor:.2f} | {floor / limit:.2f} | {vlsim / limit:.2f} |")
PY
done
cat "$WORK/table"
echo
echo "(limit: openssl speed on one core, times $CORES for 'all')"
