#!/usr/bin/env bash
# vlsim beside oauth2-mock-server (npm) in the same run, same load generator, same machine:
# its RS256 `POST /token` (client_credentials) against vlsim's RS256 `POST /oauth2/token`, the
# like-for-like endpoint. vlsim answers client_credentials as FusionAuth's Community edition
# does (not_licensed: it belongs to Entities), so its side is the password grant without
# scopes: one RS256 access token per request, plus a (cheap, 1000-round) PBKDF2 check. Not
# run in CI (it installs the peer from the npm registry). Prints both rates and vlsim's ratio.
#   benches/compare-oauth2-mock-server.sh [SECONDS]   (VLSIM_BIN picks another build)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-8}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }
command -v node >/dev/null || { echo "node is needed" >&2; exit 2; }
BIN=${VLSIM_BIN:-$PWD/target/perf/vlsim}
[ -n "${VLSIM_BIN:-}" ] || cargo build --profile perf --locked --bin vlsim
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "== installing oauth2-mock-server"
(cd "$WORK" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund oauth2-mock-server@9 >/dev/null)
cat > "$WORK/peer.mjs" <<'JS'
import { OAuth2Server } from "oauth2-mock-server";
const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
await server.start(0, "127.0.0.1");
console.log(`PEER ${server.issuer.url}`);
JS
node "$WORK/peer.mjs" > "$WORK/peer.out" 2>&1 < /dev/null &
for _ in $(seq 100); do grep -q '^PEER' "$WORK/peer.out" 2>/dev/null && break; sleep 0.1; done
PEER=$(sed -n 's/^PEER //p' "$WORK/peer.out" | sed 's/localhost/127.0.0.1/')
[ -n "$PEER" ] || { echo "oauth2-mock-server did not start: $(cat "$WORK/peer.out")" >&2; exit 1; }

VLSIM_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" --journal-size 0 > "$WORK/vlsim.out" 2>/dev/null < /dev/null &
for _ in $(seq 100); do [ -s "$WORK/vlsim.out" ] && break; sleep 0.05; done
URL=$(sed 's/^vlsim listening on //' "$WORK/vlsim.out")

printf 'grant_type=client_credentials&client_id=bench&scope=read' > "$WORK/peer.form"
printf 'grant_type=password&client_id=20000000-0000-4000-8000-000000000001&client_secret=vlsim-client-secret&username=admin%%40vlsim.test&password=password' > "$WORK/vlsim.form"
# The request must succeed before it is measured (a 4xx would count as zero).
curl -sf -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$WORK/vlsim.form" "$URL/oauth2/token" > /dev/null \
  || { echo "vlsim /oauth2/token refused the benchmark request" >&2; exit 1; }
rate() { # url, then BENCH_* env → requests/s of successful answers
  wrk -t1 -c16 -d"${SECS}s" -s benches/request.lua "$1" | sed -n 's/^BENCH_JSON //p' \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.0f" % ((r["requests"]-r["non_2xx"]-r["socket_errors"])/r["seconds"]))'
}
peer=$(BENCH_METHOD=POST BENCH_CTYPE=application/x-www-form-urlencoded BENCH_BODY="$WORK/peer.form" rate "$PEER/token")
ours=$(BENCH_METHOD=POST BENCH_CTYPE=application/x-www-form-urlencoded BENCH_BODY="$WORK/vlsim.form" rate "$URL/oauth2/token")
sign=$(openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
echo "oauth2-mock-server POST /token (RS256): $peer/s"
echo "vlsim POST /oauth2/token (RS256):       $ours/s"
echo "openssl rsa2048 sign, one core:         $sign/s; cores: $(nproc)"
python3 -c "print('vlsim / oauth2-mock-server = %.2f' % ($ours / max($peer, 1)))"
