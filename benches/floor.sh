#!/usr/bin/env bash
# The floor on this machine: examples/floor_server (actix-web + vlsim's key code, nothing
# else) answering the shape of each hot path, driven exactly as benches/run.sh drives vlsim
# (server pinned to one core with one worker, wrk on the other; then a worker per core),
# beside openssl speed. The gap between floor and vlsim is what vlsim adds; the gap between
# floor and openssl is HTTP over loopback here.
#
# The floor is sent the very requests vlsim is sent (the same SOAP bodies and cookie, the
# same Bearer tokens, the same refresh-grant form), so both read and answer alike.
#
# Floor and vlsim run side by side (both pinned alike, only one under load at a time) and
# each path is measured in alternating slices, floor then vlsim, --rounds times: on a shared
# machine whose speed drifts by tens of percent within a minute, only a ratio taken over
# adjacent seconds means much. Each row gives the median of the per-round ratios.
#
#   benches/floor.sh [--seconds N] [--rounds N] [--out FILE]   (VLSIM_BIN / FLOOR_BIN
#   pick other builds)
#
# Needs wrk, openssl, curl, python3. Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=2
ROUNDS=3
OUT=target/bench/floor.json
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }
BIN=${VLSIM_BIN:-$PWD/target/perf/vlsim}
FLOOR=${FLOOR_BIN:-$PWD/target/perf/examples/floor_server}
if [ -z "${VLSIM_BIN:-}" ] || [ -z "${FLOOR_BIN:-}" ]; then
  cargo build --profile perf --locked --bin vlsim --example floor_server
fi
CORES=$(nproc)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null > "$WORK/speed.txt"
RSA_SIGN=$(awk '/^rsa 2048 bits/ {print $6}' "$WORK/speed.txt")
RSA_VERIFY=$(awk '/^rsa 2048 bits/ {print $7}' "$WORK/speed.txt")
EC_SIGN=$(awk '/256 bits ecdsa \(nistp256\)/ {print $7}' "$WORK/speed.txt")
echo "openssl, one core: rsa2048 sign/s=$RSA_SIGN verify/s=$RSA_VERIFY  ecdsa-p256 sign/s=$EC_SIGN"

# launch NAME PIN CMD... → sets URL and PID from the first stdout line ("... listening on URL")
launch() {
  local name=$1 pin=$2; shift 2
  : > "$WORK/url-$name"
  if [ -n "$pin" ]; then taskset -c "$pin" "$@" > "$WORK/url-$name" 2>/dev/null &
  else "$@" > "$WORK/url-$name" 2>/dev/null & fi
  PID=$!
  for _ in $(seq 200); do [ -s "$WORK/url-$name" ] && break; sleep 0.05; done
  URL=$(sed 's/^.* listening on //' "$WORK/url-$name")
}

# rate MODE CONNS URL → successful requests/s (BENCH_* env describes the request)
rate() {
  local pin_wrk=""
  if [ "$1" = one ] && [ "$CORES" -gt 1 ]; then pin_wrk="taskset -c 1"; fi
  $pin_wrk wrk -t1 -c"$2" -d"${SECONDS_PER_RUN}s" -s benches/request.lua "$3" \
    | grep '^BENCH_JSON' | sed 's/^BENCH_JSON //' \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.0f" % ((r["requests"]-r["non_2xx"]-r["socket_errors"])/r["seconds"]))'
}
request() { # METHOD CTYPE BODY AUTH [COOKIE] [HEADER]
  export BENCH_METHOD=$1 BENCH_CTYPE=$2 BENCH_BODY=$3 BENCH_AUTH=$4 BENCH_COOKIE=${5:-} BENCH_HEADER=${6:-}
}

soap() {
  printf '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' "$1"
}
soap '<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_Generate>' > "$WORK/generate.xml"
soap '<JwtToken_GetPublicKeys xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_GetPublicKeys>' > "$WORK/keys.xml"
soap '<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>administrator</username><password><utf8String>dm13YXJl</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>' > "$WORK/login.xml"
printf '{"loginId":"admin@vlsim.test","password":"password","applicationId":"20000000-0000-4000-8000-000000000001"}' > "$WORK/fa-login.json"
printf '{"domain":"VLSIM","username":"administrator","password":"vmware"}' > "$WORK/rest-login.json"
FA_APP=20000000-0000-4000-8000-000000000001
printf 'grant_type=password&client_id=%s&client_secret=vlsim-client-secret&username=admin%%40vlsim.test&password=password&scope=offline_access' \
  "$FA_APP" > "$WORK/oauth2-password.form"
XML="text/xml; charset=utf-8"
FORM=application/x-www-form-urlencoded
vlsi_cookie() {
  curl -s -D - -o /dev/null -X POST -H 'Content-Type: text/xml' --data-binary @"$WORK/login.xml" \
    "$V/view-vlsi/sdk" | awk -F'[: ;]+' 'tolower($1)=="set-cookie" {print $2; exit}'
}

ROWS="$WORK/rows.jsonl"
: > "$ROWS"
# pair NAME MODE CONNS LIMIT FLOOR_URL FLOOR_REQUEST VLSIM_URL VLSIM_REQUEST: --rounds slices
# of floor then vlsim; the *_REQUEST arguments are functions that set the BENCH_* variables.
pair() {
  local name=$1 mode=$2 conns=$3 limit=$4 furl=$5 freq=$6 vurl=$7 vreq=$8 f v
  local floors="" vlsims=""
  for _ in $(seq "$ROUNDS"); do
    $freq; f=$(rate "$mode" "$conns" "$furl")
    $vreq; v=$(rate "$mode" "$conns" "$vurl")
    floors="$floors $f"; vlsims="$vlsims $v"
  done
  python3 - "$name" "$mode" "$limit" "$floors" "$vlsims" >> "$ROWS" <<'PY'
import json, statistics, sys
name, mode, limit, floors, vlsims = sys.argv[1:]
f = [float(x) for x in floors.split()]
v = [float(x) for x in vlsims.split()]
ratios = [b / a if a else 0.0 for a, b in zip(f, v)]
print(json.dumps({"path": name, "workers": mode, "limit": None if limit == "null" else float(limit),
                  "floor": statistics.median(f), "vlsim": statistics.median(v),
                  "vlsim_per_floor": statistics.median(ratios), "rounds": ratios,
                  "floor_runs": f, "vlsim_runs": v}))
PY
  echo "  $name ($mode): floor$floors /s; vlsim$vlsims /s"
}

for mode in one all; do
  if [ "$mode" = one ]; then workers=1; pin=0; mult=1; else workers=$CORES; pin=""; mult=$CORES; fi
  echo "== $mode worker(s)"
  launch floor "$pin" "$FLOOR" "$workers" "$WORK/floor-db-$mode"; F=$URL; FPID=$PID
  launch vlsim "$pin" env VLSIM_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data-$mode" \
    --workers "$workers" --journal-size 0
  V=$URL; VPID=$PID

  keys_request() { request POST "$XML" "$WORK/keys.xml" ""; }
  COOKIE=$(vlsi_cookie)
  generate_request() { request POST "$XML" "$WORK/generate.xml" "" "$COOKIE"; }
  ACCESS=$(curl -sf -X POST -H 'Authorization: vlsim-api-key' -H 'Content-Type: application/json' \
    --data-binary @"$WORK/fa-login.json" "$V/api/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  validate_request() { request GET "" "" "Bearer $ACCESS"; }
  REST=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/rest-login.json" "$V/rest/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  rest_request() { request GET "" "" "Bearer $REST"; }
  refresh=$(curl -sf -X POST -H "Content-Type: $FORM" --data-binary @"$WORK/oauth2-password.form" "$V/oauth2/token" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')
  printf 'grant_type=refresh_token&client_id=%s&client_secret=vlsim-client-secret&refresh_token=%s' \
    "$FA_APP" "$refresh" > "$WORK/oauth2-refresh.form"
  refresh_request() { request POST "$FORM" "$WORK/oauth2-refresh.form" ""; }

  RSA_SIGN_LIMIT=$(python3 -c "print($RSA_SIGN*$mult)")
  RSA_VERIFY_LIMIT=$(python3 -c "print($RSA_VERIFY*$mult)")
  pair "RS256 sign: SOAP JwtToken_Generate" "$mode" 16 "$RSA_SIGN_LIMIT" \
    "$F/sign" generate_request "$V/view-vlsi/sdk" generate_request
  pair "no crypto: SOAP JwtToken_GetPublicKeys" "$mode" 16 null \
    "$F/keys" keys_request "$V/view-vlsi/sdk" keys_request
  pair "RS256 verify: GET /api/jwt/validate" "$mode" 32 "$RSA_VERIFY_LIMIT" \
    "$F/verify" validate_request "$V/api/jwt/validate" validate_request
  pair "RS256 verify: Horizon REST Bearer (GET /rest/monitor/connection-servers)" "$mode" 32 "$RSA_VERIFY_LIMIT" \
    "$F/verify" rest_request "$V/rest/monitor/connection-servers" rest_request
  pair "RS256 sign: POST /oauth2/token refresh grant" "$mode" 16 "$RSA_SIGN_LIMIT" \
    "$F/token" refresh_request "$V/oauth2/token" refresh_request
  pair "RS256 sign + a durable write: POST /oauth2/token refresh grant" "$mode" 16 "$RSA_SIGN_LIMIT" \
    "$F/token?durable" refresh_request "$V/oauth2/token" refresh_request
  pair "RS256 sign + a durable write, flushes shared: POST /oauth2/token refresh grant" "$mode" 16 "$RSA_SIGN_LIMIT" \
    "$F/token?shared" refresh_request "$V/oauth2/token" refresh_request
  # ES256 last: it switches the Horizon signing key to the EC fixture key.
  sed '/^\[horizon\]/,/^\[/ s/^signing_key = "40000000-0000-4000-8000-000000000001"/signing_key = "40000000-0000-4000-8000-000000000002"/' fixtures/default.toml \
    | curl -sf -X POST -H 'content-type: application/toml' --data-binary @- "$V/_vlsim/seed" > /dev/null
  COOKIE=$(vlsi_cookie)
  pair "ES256 sign: SOAP JwtToken_Generate (EC key)" "$mode" 16 "$(python3 -c "print($EC_SIGN*$mult)")" \
    "$F/sign?alg=ES256" generate_request "$V/view-vlsi/sdk" generate_request
  kill "$FPID"; wait "$FPID" 2>/dev/null || true
  kill -TERM "$VPID"; wait "$VPID" 2>/dev/null || true
done

mkdir -p "$(dirname "$OUT")"
python3 - "$ROWS" "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump({"rows": rows}, open(sys.argv[2], "w"), indent=1)
print()
print("| path | workers | floor req/s | vlsim req/s | vlsim / floor (median of rounds) | rounds | floor / limit | vlsim / limit |")
print("|---|---|---:|---:|---:|---|---:|---:|")
for r in rows:
    lim = r["limit"]
    fl = "-" if not lim else "%.2f" % (r["floor"] / lim)
    vl = "-" if not lim else "%.2f" % (r["vlsim"] / lim)
    rounds = ", ".join(f"{x:.2f}" for x in r["rounds"])
    print(f"| {r['path']} | {r['workers']} | {r['floor']:,.0f} | {r['vlsim']:,.0f} | {r['vlsim_per_floor']:.2f} | {rounds} | {fl} | {vl} |")
PY
echo
echo "(limit: openssl speed on one core, times $CORES for 'all'; written to $OUT)"
