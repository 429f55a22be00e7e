#!/usr/bin/env bash
# The floor on this machine: examples/floor_server (actix-web + vlsim's key code, nothing
# else) answering the shape of each hot path, driven exactly as benches/run.sh drives vlsim
# (server pinned to one core with one worker, wrk on the other; then a worker per core),
# beside openssl speed and vlsim's own paths in the same run. The gap between floor and
# vlsim is what vlsim adds; the gap between floor and openssl is HTTP over loopback here.
#
#   benches/floor.sh [--seconds N] [--out FILE]   (VLSIM_BIN / FLOOR_BIN pick other builds)
#
# Needs wrk, openssl, curl, python3. Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=5
OUT=target/bench/floor.json
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
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
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT



openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null > "$WORK/speed.txt"
RSA_SIGN=$(awk '/^rsa 2048 bits/ {print $6}' "$WORK/speed.txt")
RSA_VERIFY=$(awk '/^rsa 2048 bits/ {print $7}' "$WORK/speed.txt")
EC_SIGN=$(awk '/256 bits ecdsa \(nistp256\)/ {print $7}' "$WORK/speed.txt")
echo "openssl, one core: rsa2048 sign/s=$RSA_SIGN verify/s=$RSA_VERIFY  ecdsa-p256 sign/s=$EC_SIGN"

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
    "$URL/view-vlsi/sdk" | awk -F'[: ;]+' 'tolower($1)=="set-cookie" {print $2; exit}'
}

ROWS="$WORK/rows.jsonl"
: > "$ROWS"
row() { # PATH MODE LIMIT FLOOR VLSIM
  printf '{"path":"%s","workers":"%s","limit":%s,"floor":%s,"vlsim":%s}\n' "$1" "$2" "$3" "$4" "$5" >> "$ROWS"
  echo "  $1 ($2): floor $4/s, vlsim $5/s"
}

for mode in one all; do
  if [ "$mode" = one ]; then workers=1; pin=0; mult=1; else workers=$CORES; pin=""; mult=$CORES; fi
  echo "== $mode worker(s)"

  launch "$pin" "$FLOOR" "$workers"
  request POST "" "" ""
  f_rs=$(rate "$mode" 16 "$URL/sign")
  f_es=$(rate "$mode" 16 "$URL/sign?alg=ES256")
  f_keys=$(rate "$mode" 16 "$URL/keys")
  f_token=$(rate "$mode" 16 "$URL/token")
  request GET "" "" "Bearer $(curl -sf -X POST "$URL/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  f_verify=$(rate "$mode" 32 "$URL/verify")
  kill "$PID"; wait "$PID" 2>/dev/null || true

  launch "$pin" env VLSIM_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data-$mode" \
    --workers "$workers" --journal-size 0
  request POST "$XML" "$WORK/keys.xml" ""
  v_keys=$(rate "$mode" 16 "$URL/view-vlsi/sdk")
  request POST "$XML" "$WORK/generate.xml" "" "$(vlsi_cookie)"
  v_rs=$(rate "$mode" 16 "$URL/view-vlsi/sdk")
  access=$(curl -sf -X POST -H 'Authorization: vlsim-api-key' -H 'Content-Type: application/json' \
    --data-binary @"$WORK/fa-login.json" "$URL/api/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  request GET "" "" "Bearer $access"
  v_validate=$(rate "$mode" 32 "$URL/api/jwt/validate")
  rest=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/rest-login.json" "$URL/rest/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  request GET "" "" "Bearer $rest"
  v_rest=$(rate "$mode" 32 "$URL/rest/monitor/connection-servers")
  refresh=$(curl -sf -X POST -H "Content-Type: $FORM" --data-binary @"$WORK/oauth2-password.form" "$URL/oauth2/token" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')
  printf 'grant_type=refresh_token&client_id=%s&client_secret=vlsim-client-secret&refresh_token=%s' \
    "$FA_APP" "$refresh" > "$WORK/oauth2-refresh.form"
  request POST "$FORM" "$WORK/oauth2-refresh.form" ""
  v_token=$(rate "$mode" 16 "$URL/oauth2/token")
  # ES256 last: it switches the Horizon signing key to the EC fixture key.
  sed '/^\[horizon\]/,/^\[/ s/^signing_key = "40000000-0000-4000-8000-000000000001"/signing_key = "40000000-0000-4000-8000-000000000002"/' fixtures/default.toml \
    | curl -sf -X POST -H 'content-type: application/toml' --data-binary @- "$URL/_vlsim/seed" > /dev/null
  request POST "$XML" "$WORK/generate.xml" "" "$(vlsi_cookie)"
  v_es=$(rate "$mode" 16 "$URL/view-vlsi/sdk")
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true

  row "RS256 sign: SOAP JwtToken_Generate" "$mode" "$(python3 -c "print($RSA_SIGN*$mult)")" "$f_rs" "$v_rs"
  row "ES256 sign: SOAP JwtToken_Generate (EC key)" "$mode" "$(python3 -c "print($EC_SIGN*$mult)")" "$f_es" "$v_es"
  row "no crypto: SOAP JwtToken_GetPublicKeys" "$mode" null "$f_keys" "$v_keys"
  row "RS256 verify: GET /api/jwt/validate" "$mode" "$(python3 -c "print($RSA_VERIFY*$mult)")" "$f_verify" "$v_validate"
  row "RS256 verify: Horizon REST Bearer (GET /rest/monitor/connection-servers)" "$mode" "$(python3 -c "print($RSA_VERIFY*$mult)")" "$f_verify" "$v_rest"
  row "RS256 sign: POST /oauth2/token refresh grant" "$mode" "$(python3 -c "print($RSA_SIGN*$mult)")" "$f_token" "$v_token"
done

mkdir -p "$(dirname "$OUT")"
python3 - "$ROWS" "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in rows:
    r["vlsim_per_floor"] = r["vlsim"] / r["floor"] if r["floor"] else None
json.dump({"rows": rows}, open(sys.argv[2], "w"), indent=1)
print()
print("| path | workers | floor req/s | vlsim req/s | vlsim / floor | floor / limit | vlsim / limit |")
print("|---|---|---:|---:|---:|---:|---:|")
for r in rows:
    lim = r["limit"]
    fl = "-" if not lim else "%.2f" % (r["floor"] / lim)
    vl = "-" if not lim else "%.2f" % (r["vlsim"] / lim)
    print(f"| {r['path']} | {r['workers']} | {r['floor']:,.0f} | {r['vlsim']:,.0f} | {r['vlsim_per_floor']:.2f} | {fl} | {vl} |")
PY
echo
echo "(limit: openssl speed on one core, times $CORES for 'all'; written to $OUT)"
