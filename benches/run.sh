#!/usr/bin/env bash
# Throughput and latency of vlsim's hot paths, beside the crypto limit measured in the same
# run (openssl speed, one core). Prints a table and writes JSON (default
# target/bench/results.json; pass --out to keep it elsewhere).
#
#   benches/run.sh [--seconds N] [--out FILE] [--only NAME]
#
# Needs: the perf-profile build (fat LTO, see benches/README.md; built here), wrk and openssl (apt-get install wrk openssl),
# python3. Not part of the test run: timings are measured, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=5
OUT=target/bench/results.json
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 2; }
# VLSIM_BIN picks another build (e.g. of another profile) to measure.
BIN=${VLSIM_BIN:-$PWD/target/perf/vlsim}
[ -n "${VLSIM_BIN:-}" ] || cargo build --profile perf --locked --bin vlsim
CORES=$(nproc)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "== crypto limit (openssl speed, one core)"
openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null > "$WORK/speed.txt"
RSA_SIGN=$(awk '/^rsa 2048 bits/ {print $6}' "$WORK/speed.txt")
RSA_VERIFY=$(awk '/^rsa 2048 bits/ {print $7}' "$WORK/speed.txt")
EC_SIGN=$(awk '/256 bits ecdsa \(nistp256\)/ {print $7}' "$WORK/speed.txt")
EC_VERIFY=$(awk '/256 bits ecdsa \(nistp256\)/ {print $8}' "$WORK/speed.txt")
echo "rsa2048 sign/s=$RSA_SIGN verify/s=$RSA_VERIFY  ecdsa-p256 sign/s=$EC_SIGN verify/s=$EC_VERIFY"

# start WORKERS PIN [JOURNAL_SIZE] → sets URL, PID (the journal is off unless a size is given)
start() {
  local workers=$1 pin=$2 journal=${3:-0}
  local dir="$WORK/data-$workers-$RANDOM"
  # Failures keep a budget as large as successes here, so the audit-events row can fill its
  # 100,000-event log with cheap failed logins (no other row comes near either budget).
  local cmd=("$BIN" serve --listen 127.0.0.1:0 --data-dir "$dir" --workers "$workers" --journal-size "$journal"
    --event-retention-failures 100000)
  if [ -n "$pin" ]; then cmd=(taskset -c "$pin" "${cmd[@]}"); fi
  VLSIM_LOG=warn "${cmd[@]}" > "$WORK/url" 2> "$WORK/server.log" &
  PID=$!
  for _ in $(seq 100); do
    if [ -s "$WORK/url" ]; then break; fi
    sleep 0.05
  done
  URL=$(sed 's/^vlsim listening on //' "$WORK/url")
}
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; }

soap() { # file with a SOAP body for operation $1
  printf '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' "$1"
}
soap '<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_Generate>' > "$WORK/generate.xml"
soap '<JwtToken_GetPublicKeys xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_GetPublicKeys>' > "$WORK/keys.xml"
soap '<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>administrator</username><password><utf8String>dm13YXJl</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>' > "$WORK/login.xml"

vlsi_cookie() {
  curl -s -D - -o /dev/null -X POST -H 'Content-Type: text/xml' --data-binary @"$WORK/login.xml" "$URL/view-vlsi/sdk" \
    | awk -F'[: ;]+' 'tolower($1)=="set-cookie" {print $2; exit}'
}

use_es256() { # switch the Horizon signing key to the EC fixture key
  sed '/^\[horizon\]/,/^\[/ s/^signing_key = "40000000-0000-4000-8000-000000000001"/signing_key = "40000000-0000-4000-8000-000000000002"/' fixtures/default.toml \
    | curl -sf -X POST -H 'content-type: application/toml' --data-binary @- "$URL/_vlsim/seed" > /dev/null
}

RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
# run NAME LIMIT_PER_CORE MODE CONNECTIONS PATH (BENCH_* env describes the request)
run() {
  local name=$1 limit=$2 mode=$3 conns=$4 path=$5 out
  local pin_wrk=""
  if [ "$mode" = one ] && [ "$CORES" -gt 1 ]; then pin_wrk="taskset -c 1"; fi
  out=$($pin_wrk wrk -t1 -c"$conns" -d"${SECONDS_PER_RUN}s" --timeout 10s -s benches/request.lua "$URL$path" | grep '^BENCH_JSON' | sed 's/^BENCH_JSON //')
  python3 - "$name" "$mode" "$limit" "$CORES" "$out" >> "$RESULTS" <<'PY'
import json, sys
name, mode, limit, cores, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
limit = float(limit) if limit not in ("", "-") else None
if limit and mode == "all":
    limit *= cores
# Only successful answers count: a fault or error is not a minted token.
ok = out["requests"] - out["non_2xx"] - out["socket_errors"]
out["ok_rps"] = ok / out["seconds"]
out.update(name=name, workers=mode, limit_rps=limit, ratio=(out["ok_rps"] / limit) if limit else None)
print(json.dumps(out))
PY
  tail -n 1 "$RESULTS" | python3 -c '
import json, sys
r = json.load(sys.stdin)
ratio = "-" if r["ratio"] is None else "%.3f" % r["ratio"]
print("  %-24s %-4s %9.0f/s  p50 %.2f ms  p99 %.2f ms  ratio %s  errors %d+%d" % (
    r["name"], r["workers"], r["ok_rps"], r["p50_ms"], r["p99_ms"], ratio, r["socket_errors"], r["non_2xx"]))
'
}

want() { [ -z "$ONLY" ] || [[ "$1" == *"$ONLY"* ]]; }

for mode in one all; do
  if [ "$mode" = one ]; then start 1 0; else start "$CORES" ""; fi
  echo "== $mode worker(s): $URL"
  export BENCH_METHOD=GET BENCH_BODY= BENCH_CTYPE= BENCH_COOKIE= BENCH_AUTH= BENCH_HEADER=
  want health && run health - "$mode" 32 /_vlsim/health
  export BENCH_METHOD=POST BENCH_CTYPE="text/xml; charset=utf-8"
  BENCH_BODY="$WORK/keys.xml"; export BENCH_BODY
  want soap_get_public_keys && run soap_get_public_keys - "$mode" 16 /view-vlsi/sdk
  BENCH_COOKIE="$(vlsi_cookie)"; BENCH_BODY="$WORK/generate.xml"; export BENCH_COOKIE BENCH_BODY
  want soap_generate_rs256 && run soap_generate_rs256 "$RSA_SIGN" "$mode" 16 /view-vlsi/sdk
  use_es256
  BENCH_COOKIE="$(vlsi_cookie)"; export BENCH_COOKIE
  want soap_generate_es256 && run soap_generate_es256 "$EC_SIGN" "$mode" 16 /view-vlsi/sdk
  if [ -x benches/surfaces.sh ]; then
    # shellcheck source=/dev/null
    . benches/surfaces.sh
  fi
  if [ -x benches/horizon_rest.sh ]; then
    # shellcheck source=/dev/null
    . benches/horizon_rest.sh
  fi
  stop
done

# The dashboard: the journal page with 1,000 entries (a full default journal), rendered
# whole, and the same page searched for a text (the search reads the redacted bodies). One
# worker, pinned; the journal is on here (it is what the page shows).
if want ui_journal; then
  start 1 0 1000
  echo "== dashboard, one worker: $URL"
  export BENCH_METHOD=POST BENCH_CTYPE="text/xml; charset=utf-8" BENCH_COOKIE= BENCH_AUTH= BENCH_HEADER=
  BENCH_BODY="$WORK/keys.xml"; export BENCH_BODY
  for _ in $(seq 20); do # fill the journal with JwtToken_GetPublicKeys calls
    size=$(curl -sf "$URL/_vlsim/journal?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
    [ "$size" -ge 1000 ] && break
    wrk -t1 -c4 -d1s -s benches/request.lua "$URL/view-vlsi/sdk" > /dev/null
  done
  echo "  journal entries: $size"
  export BENCH_METHOD=GET BENCH_CTYPE= BENCH_BODY=
  want ui_journal_1000 && run ui_journal_1000 - one 4 "/_vlsim/ui/journal?limit=1000"
  want ui_journal_search && run ui_journal_search - one 4 "/_vlsim/ui/journal?limit=1000&q=cs1.vlsim.test"
  stop
fi

mkdir -p "$(dirname "$OUT")"
python3 - "$RESULTS" "$OUT" "$CORES" "$RSA_SIGN" "$RSA_VERIFY" "$EC_SIGN" "$EC_VERIFY" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
doc = {"cores": int(sys.argv[3]),
       "limits_one_core": {"rsa2048_sign": float(sys.argv[4]), "rsa2048_verify": float(sys.argv[5]),
                           "ecdsa_p256_sign": float(sys.argv[6]), "ecdsa_p256_verify": float(sys.argv[7])},
       "results": rows}
json.dump(doc, open(sys.argv[2], "w"), indent=2)
print()
print(f"| path | workers | req/s | p50 ms | p99 ms | limit req/s | ratio |")
print(f"|---|---|---:|---:|---:|---:|---:|")
for r in rows:
    lim = f"{r['limit_rps']:.0f}" if r["limit_rps"] else "-"
    ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
    print(f"| {r['name']} | {r['workers']} | {r['ok_rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {lim} | {ratio} |")
bad = [r["name"] + "/" + r["workers"] for r in rows if r["non_2xx"] or r["socket_errors"]]
if bad:
    print("\nWARNING: errors in " + ", ".join(bad))
print(f"\n(limits: openssl speed on one core, times {doc['cores']} cores for 'all'; JSON in {sys.argv[2]})")
PY
