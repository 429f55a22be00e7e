#!/usr/bin/env bash
# Soak: N minutes of mixed load against one vlsim while its clock keeps moving forward, to
# show that memory, the data dir and the stored counts level off (the sweeper and event
# retention at work). Not a test: it prints, every interval, RSS, data-dir size, stored
# counts and the request rate, and asserts nothing.
#
#   benches/soak.sh [--minutes N] [--interval SECONDS] [--clock-step SECONDS] [--workers N]
#                   [-- extra vlsim serve flags...]
#
# Load (python3 threads, stdlib only): FusionAuth logins (some tokens refreshed later),
# SOAP logins that Generate a few JWTs and walk away, failed SOAP logins (unknown users),
# vCenter sessions never deleted. Every 5 s the clock moves --clock-step seconds
# (default 12 h: sessions idle out at once, 30-day refresh tokens within a few minutes).
# Needs python3 and a vlsim build (VLSIM_BIN, default target/perf/vlsim, built if
# missing). "errors" counts 5xx answers and SOAP UnexpectedFaults (expected: 0).
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=10
INTERVAL=30
CLOCK_STEP=43200
WORKERS=4
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --clock-step) CLOCK_STEP=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

BIN=${VLSIM_BIN:-$PWD/target/perf/vlsim}
[ -n "${VLSIM_BIN:-}" ] || cargo build --profile perf --locked --bin vlsim
WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

VLSIM_LOG=warn "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" "${EXTRA[@]}" > "$WORK/url" 2> "$WORK/server.log" &
PID=$!
for _ in $(seq 200); do [ -s "$WORK/url" ] && break; sleep 0.05; done
URL=$(sed 's/^vlsim listening on //' "$WORK/url")
echo "== vlsim $URL (pid $PID), data dir $WORK/data; $MINUTES min, report every $INTERVAL s, clock +$CLOCK_STEP s every 5 s"

python3 - "$URL" "$PID" "$WORK/data" "$MINUTES" "$INTERVAL" "$CLOCK_STEP" "$WORKERS" <<'PY'
import base64, http.client, json, os, random, subprocess, sys, threading, time, urllib.parse

url, pid, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
minutes, interval, clock_step, workers = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
host = urllib.parse.urlparse(url).netloc
APP = "20000000-0000-4000-8000-000000000001"
stop = threading.Event()
counts = {"requests": 0, "errors": 0}
lock = threading.Lock()

def envelope(body):
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>')

def login_xml(user, password):
    b64 = base64.b64encode(password.encode()).decode()
    return ('<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">'
            f'AuthenticationManager</_this><username>{user}</username><password><utf8String>{b64}'
            '</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>')

GENERATE = '<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_Generate>'

def call(conn, method, path, body=None, headers=None, is_soap=False):
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    # SOAP faults travel with HTTP 500: only an UnexpectedFault is a server error there.
    failed = b"UnexpectedFault" in data if is_soap else r.status >= 500
    with lock:
        counts["requests"] += 1
        if failed:
            counts["errors"] += 1
    return r, data

def soap(conn, body, cookie=None):
    h = {"Content-Type": "text/xml; charset=utf-8"}
    if cookie:
        h["Cookie"] = cookie
    return call(conn, "POST", "/view-vlsi/sdk", envelope(body), h, is_soap=True)

def worker(n):
    conn = http.client.HTTPConnection(host, timeout=30)
    tokens = []
    i = 0
    while not stop.is_set():
        i += 1
        try:
            kind = i % 4
            if kind == 0:      # FusionAuth login; refresh an earlier token now and then
                r, d = call(conn, "POST", "/api/login",
                            {"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP},
                            {"Authorization": "vlsim-api-key"})
                if r.status == 200:
                    tokens.append(json.loads(d)["refreshToken"])
                    tokens = tokens[-50:]
                if tokens and random.random() < 0.5:
                    call(conn, "POST", "/api/jwt/refresh", {"refreshToken": random.choice(tokens)})
            elif kind == 1:    # SOAP login, a few Generates, no logout
                r, _ = soap(conn, login_xml("administrator", "vmware"))
                cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
                for _ in range(3):
                    soap(conn, GENERATE, cookie)
            elif kind == 2:    # failed logins of unknown users
                for _ in range(5):
                    soap(conn, login_xml(f"nobody{random.randrange(10**6)}", "x"))
            else:              # vCenter sessions, never deleted
                auth = base64.b64encode(b"administrator@vsphere.local:VMware1!").decode()
                call(conn, "POST", "/api/session", None, {"Authorization": f"Basic {auth}"})
        except (OSError, http.client.HTTPException):
            with lock:
                counts["errors"] += 1
            conn.close()
            conn = http.client.HTTPConnection(host, timeout=30)

def clock():
    while not stop.wait(5):
        # A connection per move: an idle one is closed by the server's keep-alive timeout.
        conn = http.client.HTTPConnection(host, timeout=30)
        try:
            call(conn, "POST", "/_vlsim/clock/advance", {"seconds": clock_step})
        except (OSError, http.client.HTTPException):
            with lock:
                counts["errors"] += 1
        conn.close()

def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def dir_mb():
    out = subprocess.run(["du", "-sk", data_dir], capture_output=True, text=True).stdout
    return int(out.split()[0]) / 1024 if out else 0.0

def state():
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("GET", "/_vlsim/state?limit=1")
    counts = json.loads(conn.getresponse().read())["counts"]
    conn.request("GET", "/_vlsim/clock")
    counts["clock_days"] = json.loads(conn.getresponse().read())["offset_seconds"] / 86400
    return counts

threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
threads.append(threading.Thread(target=clock, daemon=True))
for t in threads:
    t.start()
start = time.time()
last = (start, 0)
print(f"{'min':>5} {'clock +d':>8} {'rss MB':>7} {'dir MB':>7} {'req/s':>7} {'errors':>6} {'sessions':>8} {'refresh':>8} {'events':>7}  events by log / swept")
try:
    while time.time() - start < minutes * 60:
        time.sleep(max(0.0, interval - ((time.time() - start) % interval)))
        c = state()
        now = time.time()
        with lock:
            done, errors = counts["requests"], counts["errors"]
        rate = (done - last[1]) / max(now - last[0], 1e-9)
        last = (now, done)
        print(f"{(now - start) / 60:5.1f} {c['clock_days']:8.1f} {rss_mb():7.1f} {dir_mb():7.1f} {rate:7.0f} {errors:6d} "
              f"{c['sessions']:8d} {c['fusionauth_refresh_tokens']:8d} {c['events']:7d}  "
              f"{json.dumps(c['events_by_log'], separators=(',', ':'))} swept={json.dumps(c['swept'], separators=(',', ':'))}",
              flush=True)
finally:
    stop.set()
PY
