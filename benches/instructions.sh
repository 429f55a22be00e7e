#!/usr/bin/env bash
# User-space instructions per request, vlsim beside the floor (examples/floor_server), for
# each cheap hot path: both run under valgrind's callgrind, are sent the same requests as
# benches/floor.sh sends them (one connection, after a warm-up), and only the measured
# requests are counted. Instruction counts do not drift with the machine's load the way
# requests/s do on a shared VM, so this shows what vlsim adds even where floor.sh's ratios
# swing by ±15%. It counts no kernel work (the loopback TCP that dominates a cheap call) and
# no waiting, so its ratios are not floor.sh's: read them as "vlsim's own work".
#
#   benches/instructions.sh [--requests N]   (VLSIM_BIN / FLOOR_BIN pick other builds)
#
# Needs valgrind, wrk, curl, python3. Not part of the test run. Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) REQUESTS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in valgrind callgrind_control wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (apt-get install -y valgrind wrk curl)" >&2; exit 2; }
done
BIN=${VLSIM_BIN:-$PWD/target/perf/vlsim}
FLOOR=${FLOOR_BIN:-$PWD/target/perf/examples/floor_server}
if [ -z "${VLSIM_BIN:-}" ] || [ -z "${FLOOR_BIN:-}" ]; then
  cargo build --profile perf --locked --bin vlsim --example floor_server
fi
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

# under NAME CMD... → starts CMD under callgrind with nothing instrumented yet; sets URL, PID
under() {
  local name=$1; shift
  : > "$WORK/url-$name"
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/$name.out" \
    "$@" > "$WORK/url-$name" 2>/dev/null &
  PID=$!
  for _ in $(seq 600); do [ -s "$WORK/url-$name" ] && break; sleep 0.05; done
  [ -s "$WORK/url-$name" ] || { echo "$name did not start under valgrind" >&2; exit 1; }
  URL=$(sed 's/^.* listening on //' "$WORK/url-$name")
}
export VLSIM_LOG=warn # (not through env(1): valgrind would follow env, not vlsim)
under vlsim "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" \
  --workers 1 --journal-size 0
V=$URL; VPID=$PID
under floor "$FLOOR" 1 "$WORK/floor-db"
F=$URL; FPID=$PID

request() { # METHOD CTYPE BODY AUTH [COOKIE]
  export BENCH_METHOD=$1 BENCH_CTYPE=$2 BENCH_BODY=$3 BENCH_AUTH=$4 BENCH_COOKIE=${5:-} BENCH_HEADER=
}
# send URL N: N requests on one connection (wrk stops its thread after N responses)
send() {
  BENCH_STOP_AFTER=$2 wrk -t1 -c1 -d"$(( $2 / 20 + 5 ))s" -s benches/request.lua "$1" \
    | grep '^BENCH_JSON' | sed 's/^BENCH_JSON //' \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(r["non_2xx"] + r["socket_errors"] > 0)' \
    || { echo "requests to $1 failed" >&2; exit 1; }
}
# counted SERVER PID TAG URL N → instructions per request over N requests after a warm-up
counted() {
  local server=$1 pid=$2 tag=$3 url=$4 n=$5 dump
  send "$url" 50
  callgrind_control --zero "$pid" >/dev/null 2>&1
  callgrind_control --instr=on "$pid" >/dev/null 2>&1
  send "$url" "$n"
  callgrind_control --instr=off "$pid" >/dev/null 2>&1
  callgrind_control --dump="$tag" "$pid" >/dev/null 2>&1
  for _ in $(seq 100); do
    dump=$(grep -l "^desc: Trigger: .* $tag\$" "$WORK/$server.out"* 2>/dev/null | head -1 || true)
    [ -n "$dump" ] && break
    sleep 0.1
  done
  [ -n "$dump" ] || { echo "no callgrind dump for $server $tag" >&2; exit 1; }
  python3 - "$dump" "$n" <<'PY'
import sys
total = 0
for line in open(sys.argv[1]):
    if line.startswith(("summary:", "totals:")):
        total = max(total, int(line.split()[1]))
print(round(total / int(sys.argv[2])))
PY
}

soap() {
  printf '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' "$1"
}
soap '<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_Generate>' > "$WORK/generate.xml"
soap '<JwtToken_GetPublicKeys xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_GetPublicKeys>' > "$WORK/keys.xml"
soap '<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>administrator</username><password><utf8String>dm13YXJl</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>' > "$WORK/login.xml"
XML="text/xml; charset=utf-8"
vlsi_cookie() {
  curl -s -D - -o /dev/null -X POST -H 'Content-Type: text/xml' --data-binary @"$WORK/login.xml" \
    "$V/view-vlsi/sdk" | awk -F'[: ;]+' 'tolower($1)=="set-cookie" {print $2; exit}'
}
ACCESS=$(curl -sf -X POST -H 'Authorization: vlsim-api-key' -H 'Content-Type: application/json' \
  -d '{"loginId":"admin@vlsim.test","password":"password","applicationId":"20000000-0000-4000-8000-000000000001"}' \
  "$V/api/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
REST=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"domain":"VLSIM","username":"administrator","password":"vmware"}' "$V/rest/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

ROWS="$WORK/rows.txt"
: > "$ROWS"
# row NAME N FLOOR_URL VLSIM_URL (BENCH_* set by the caller)
ROW=0
row() {
  local f v
  ROW=$((ROW + 1))
  f=$(counted floor "$FPID" "row$ROW" "$3" "$2")
  v=$(counted vlsim "$VPID" "row$ROW" "$4" "$2")
  printf '%s\t%s\t%s\n' "$1" "$f" "$v" >> "$ROWS"
  echo "  $1: floor $f, vlsim $v instructions/request"
}
request POST "$XML" "$WORK/keys.xml" ""
row "no crypto: SOAP JwtToken_GetPublicKeys" "$REQUESTS" "$F/keys" "$V/view-vlsi/sdk"
request GET "" "" "Bearer $ACCESS"
row "RS256 verify: GET /api/jwt/validate" "$REQUESTS" "$F/verify" "$V/api/jwt/validate"
request GET "" "" "Bearer $REST"
row "RS256 verify: Horizon REST Bearer (GET /rest/monitor/connection-servers)" "$REQUESTS" \
  "$F/verify" "$V/rest/monitor/connection-servers"
request POST "$XML" "$WORK/generate.xml" "" "$(vlsi_cookie)"
# An RSA signature is millions of instructions (and varies with its blinding): fewer.
row "RS256 sign: SOAP JwtToken_Generate" "$(( REQUESTS / 20 ))" "$F/sign" "$V/view-vlsi/sdk"
# Last: it switches the Horizon signing key to the EC fixture key.
sed '/^\[horizon\]/,/^\[/ s/^signing_key = "40000000-0000-4000-8000-000000000001"/signing_key = "40000000-0000-4000-8000-000000000002"/' fixtures/default.toml \
  | curl -sf -X POST -H 'content-type: application/toml' --data-binary @- "$V/_vlsim/seed" > /dev/null
request POST "$XML" "$WORK/generate.xml" "" "$(vlsi_cookie)"
row "ES256 sign: SOAP JwtToken_Generate (EC key)" "$REQUESTS" "$F/sign?alg=ES256" "$V/view-vlsi/sdk"

echo
echo "| path | floor instructions/request | vlsim instructions/request | vlsim / floor | vlsim's own (vlsim − floor) |"
echo "|---|---:|---:|---:|---:|"
while IFS=$'\t' read -r name f v; do
  python3 -c "import sys; n,f,v=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]); print(f'| {n} | {f:,} | {v:,} | {v/f:.3f} | {v-f:,} |')" "$name" "$f" "$v"
done < "$ROWS"
echo
echo "(callgrind, user space only, one worker; $REQUESTS requests a row after 50 of warm-up, RS256 Generate $(( REQUESTS / 20 )))"
