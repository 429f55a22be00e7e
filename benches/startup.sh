#!/usr/bin/env bash
# Start-up time of the perf-profile binary (as fast to start as release): spawn → its "listening on" line, and spawn → first
# 200 from /_vlsim/health, over N runs each on a fresh data dir (fixtures loaded, keys
# parsed) and on an existing one; beside oauth2-mock-server (npm) started the same way in
# the same run (spawn → its first line after `start()`); and vlsim's idle RSS.
# Prints the distributions; asserts nothing.
#
#   benches/startup.sh [--runs N]   (VLSIM_BIN picks another build; NO_PEER=1 skips npm)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BIN=${VLSIM_BIN:-$PWD/target/perf/vlsim}
[ -n "${VLSIM_BIN:-}" ] || cargo build --profile perf --locked --bin vlsim
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

PEER=""
if [ -z "${NO_PEER:-}" ] && command -v node >/dev/null && command -v npm >/dev/null; then
  if (cd "$WORK" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund oauth2-mock-server@9 >/dev/null 2>&1); then
    cat > "$WORK/peer.mjs" <<'JS'
import { OAuth2Server } from "oauth2-mock-server";
const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
await server.start(0, "127.0.0.1");
console.log(`PEER listening on ${server.issuer.url}`);
JS
    PEER="$WORK/peer.mjs"
  else
    echo "(oauth2-mock-server could not be installed from npm: measuring vlsim alone)"
  fi
fi

python3 - "$BIN" "$WORK" "$RUNS" "$PEER" <<'PY'
import http.client, os, shutil, statistics, subprocess, sys, time, urllib.parse

bin_, work, runs, peer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
env = dict(os.environ, VLSIM_LOG="warn")

def start(cmd, health):
    """(ms to the first stdout line, ms to the first 200 of `health` or None, process)"""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=work)
    line = p.stdout.readline().decode()
    t_line = time.perf_counter()
    url = urllib.parse.urlsplit(line.strip().split(" listening on ")[-1])
    t_ok = None
    if health:
        while True:
            try:
                c = http.client.HTTPConnection(url.hostname, url.port, timeout=1)
                c.request("GET", health)
                if c.getresponse().status == 200:
                    t_ok = time.perf_counter()
                    break
            except OSError:
                time.sleep(0.0005)
    return (t_line - t0) * 1000, None if t_ok is None else (t_ok - t0) * 1000, p

def stop(p):
    p.terminate()
    p.wait()

def show(name, values):
    v = sorted(values)
    q = lambda f: v[min(len(v) - 1, int(f * len(v)))]
    print(f"  {name:<44} median {statistics.median(v):7.1f} ms   min {v[0]:6.1f}   p90 {q(0.9):7.1f}   max {v[-1]:7.1f}")

serve = lambda d: [bin_, "serve", "--listen", "127.0.0.1:0", "--data-dir", d]
fresh_line, fresh_ok, warm_line, warm_ok = [], [], [], []
rss = None
for i in range(runs):
    d = os.path.join(work, f"data-{i}")
    a, b, p = start(serve(d), "/_vlsim/health")
    fresh_line.append(a); fresh_ok.append(b)
    if i == 0:
        time.sleep(1)
        rss = next(int(l.split()[1]) for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS"))
    stop(p)
    a, b, p = start(serve(d), "/_vlsim/health")
    warm_line.append(a); warm_ok.append(b)
    stop(p)
    shutil.rmtree(d, ignore_errors=True)
print(f"vlsim start-up over {runs} runs ({os.cpu_count()} cores):")
show("fresh data dir: to the listening line", fresh_line)
show("fresh data dir: to the first 200 (health)", fresh_ok)
show("existing data dir: to the listening line", warm_line)
show("existing data dir: to the first 200 (health)", warm_ok)
print(f"  idle RSS: {rss / 1024:.1f} MiB")
if peer:
    peer_line = []
    for _ in range(runs):
        a, _, p = start(["node", peer], None)
        peer_line.append(a)
        stop(p)
    print(f"oauth2-mock-server (node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}), same machine and run:")
    show("to its listening line (keys generated, started)", peer_line)
PY
