# Sourced by benches/run.sh with URL, WORK, mode, RSA_SIGN, RSA_VERIFY and soap()/run()/want()
# set: the Horizon REST hot paths.

# POST /rest/login: PBKDF2, two RS256 signatures (access and refresh token), the login
# written and flushed. The limit is half the RSA-2048 signing rate: two signatures a call.
printf '{"domain":"VLSIM","username":"administrator","password":"vmware"}' > "$WORK/rest-login.json"
export BENCH_METHOD=POST BENCH_CTYPE=application/json BENCH_COOKIE= BENCH_AUTH= BENCH_HEADER=
BENCH_BODY="$WORK/rest-login.json"; export BENCH_BODY
want rest_login && run rest_login "$(awk -v s="$RSA_SIGN" 'BEGIN { print s / 2 }')" "$mode" 16 /rest/login

# GET /rest/external/v1/audit-events: page 1, size 100, of the events of one type in a log
# of 100,000 (BENCH_AUDIT_LOG_SIZE to change it): failed SOAP logins of an unknown user,
# which cost no PBKDF2, sent by wrk until the log holds that many. The limit is the RS256 verify rate (one Bearer check a call);
# the call also reads, filters and sorts the whole log, so expect a small ratio.
AUDIT_LOG_SIZE=${BENCH_AUDIT_LOG_SIZE:-100000}
if want rest_audit_events_page; then
  soap '<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>nobody</username><password><utf8String>eA==</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>' > "$WORK/login-unknown.xml"
  events() { curl -sf "$URL/_vlsim/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["events"])'; }
  # wrk runs for its whole duration even once the script stops sending: short rounds.
  while [ "$(events)" -lt "$AUDIT_LOG_SIZE" ]; do
    BENCH_METHOD=POST BENCH_CTYPE="text/xml; charset=utf-8" BENCH_BODY="$WORK/login-unknown.xml" \
      BENCH_STOP_AFTER=$((AUDIT_LOG_SIZE - $(events))) \
      wrk -t1 -c16 -d3s -s benches/request.lua "$URL/view-vlsi/sdk" > /dev/null
  done
  echo "  (event log: $(events) events)"
  REST_ACCESS=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/rest-login.json" "$URL/rest/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  audit_query=$(python3 -c 'import json, urllib.parse
f = {"type": "Equals", "name": "type", "value": "VLSI_USERLOGINFAILED"}
print(urllib.parse.urlencode({"page": 1, "size": 100, "filter": json.dumps(f)}))')
  BENCH_METHOD=GET BENCH_CTYPE= BENCH_BODY= BENCH_AUTH="Bearer $REST_ACCESS"
  export BENCH_METHOD BENCH_CTYPE BENCH_BODY BENCH_AUTH
  run rest_audit_events_page "$RSA_VERIFY" "$mode" 8 "/rest/external/v1/audit-events?$audit_query"
fi
export BENCH_AUTH=
