-- wrk script: one fixed request from BENCH_* environment variables; prints a JSON line
-- (BENCH_JSON {...}) with throughput and latency percentiles when done.
local body_file = os.getenv("BENCH_BODY")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local ctype = os.getenv("BENCH_CTYPE")
if ctype and ctype ~= "" then wrk.headers["Content-Type"] = ctype end
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
local extra = os.getenv("BENCH_HEADER")
if extra and extra ~= "" then
  local name, value = extra:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

-- BENCH_STOP_AFTER=N: each thread stops after N responses (for filling the store with N
-- records). Only then is a response callback defined: wrk reads every body for one.
local stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "")
if stop_after then
  local seen = 0
  response = function(status, headers, body)
    seen = seen + 1
    if seen >= stop_after then wrk.thread:stop() end
  end
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"socket_errors":%d,"non_2xx":%d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
