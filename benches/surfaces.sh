# Sourced by benches/run.sh with URL, WORK, mode, RSA_SIGN, RSA_VERIFY and run()/want() set:
# the FusionAuth and vCenter hot paths.
FA_APP=20000000-0000-4000-8000-000000000001
fa_login_body="$WORK/fa-login.json"
printf '{"loginId":"admin@vlsim.test","password":"password","applicationId":"%s"}' "$FA_APP" > "$fa_login_body"
login_json=$(curl -sf -X POST -H 'Authorization: vlsim-api-key' -H 'Content-Type: application/json' \
  --data-binary @"$fa_login_body" "$URL/api/login")
FA_ACCESS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$login_json")
FA_REFRESH=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["refreshToken"])' "$login_json")
printf '{"refreshToken":"%s"}' "$FA_REFRESH" > "$WORK/fa-refresh.json"

export BENCH_METHOD=POST BENCH_CTYPE=application/json BENCH_COOKIE= BENCH_HEADER=
BENCH_AUTH=vlsim-api-key BENCH_BODY="$fa_login_body"; export BENCH_AUTH BENCH_BODY
want fa_login && run fa_login "$RSA_SIGN" "$mode" 16 /api/login
BENCH_AUTH= BENCH_BODY="$WORK/fa-refresh.json"; export BENCH_AUTH BENCH_BODY
want fa_refresh && run fa_refresh "$RSA_SIGN" "$mode" 16 /api/jwt/refresh
BENCH_METHOD=GET BENCH_CTYPE= BENCH_BODY= BENCH_AUTH="Bearer $FA_ACCESS"; export BENCH_METHOD BENCH_CTYPE BENCH_BODY BENCH_AUTH
want fa_validate && run fa_validate "$RSA_VERIFY" "$mode" 32 /api/jwt/validate

# OAuth2 /oauth2/token (client_secret_post): the password grant with offline_access (one RS256
# access token and a refresh token per request, like fa_login), and the refresh grant on the
# refresh token it returned (one RS256 access token; Reusable, so the same token every time).
printf 'grant_type=password&client_id=%s&client_secret=vlsim-client-secret&username=admin%%40vlsim.test&password=password&scope=offline_access' \
  "$FA_APP" > "$WORK/oauth2-password.form"
OAUTH_REFRESH=$(curl -sf -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$WORK/oauth2-password.form" \
  "$URL/oauth2/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')
printf 'grant_type=refresh_token&client_id=%s&client_secret=vlsim-client-secret&refresh_token=%s' \
  "$FA_APP" "$OAUTH_REFRESH" > "$WORK/oauth2-refresh.form"
BENCH_METHOD=POST BENCH_CTYPE=application/x-www-form-urlencoded BENCH_AUTH=
BENCH_BODY="$WORK/oauth2-password.form"; export BENCH_METHOD BENCH_CTYPE BENCH_AUTH BENCH_BODY
want oauth2_token_password && run oauth2_token_password "$RSA_SIGN" "$mode" 16 /oauth2/token
BENCH_BODY="$WORK/oauth2-refresh.form"; export BENCH_BODY
want oauth2_token_refresh && run oauth2_token_refresh "$RSA_SIGN" "$mode" 16 /oauth2/token

# vCenter: a FusionAuth access token (issuer vlsim.test, trusted by default) → SAML2, and
# that SAML2 token → an id_token for an audience.
VC_SID=$(curl -sf -X POST -u 'administrator@vsphere.local:VMware1!' "$URL/api/session" | tr -d '"')
G=urn:ietf:params:oauth:grant-type:token-exchange
T=urn:ietf:params:oauth:token-type:
python3 - "$WORK" "$FA_ACCESS" <<'PY'
import sys, urllib.parse
work, access = sys.argv[1:]
G = "urn:ietf:params:oauth:grant-type:token-exchange"; T = "urn:ietf:params:oauth:token-type:"
open(f"{work}/vc-jwt2saml.form", "w").write(urllib.parse.urlencode({
    "grant_type": G, "subject_token": access, "subject_token_type": T + "access_token",
    "requested_token_type": T + "saml2"}))
PY
saml=$(curl -sf -X POST -H "vmware-api-session-id: $VC_SID" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary @"$WORK/vc-jwt2saml.form" "$URL/api/vcenter/authentication/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
python3 - "$WORK" "$saml" <<'PY'
import sys, urllib.parse
work, saml = sys.argv[1:]
G = "urn:ietf:params:oauth:grant-type:token-exchange"; T = "urn:ietf:params:oauth:token-type:"
open(f"{work}/vc-saml2jwt.form", "w").write(urllib.parse.urlencode({
    "grant_type": G, "subject_token": saml, "subject_token_type": T + "saml2",
    "requested_token_type": T + "id_token", "audience": "vmware-tes:vc:vns:k8s"}))
PY
BENCH_METHOD=POST BENCH_CTYPE=application/x-www-form-urlencoded BENCH_AUTH= BENCH_HEADER="vmware-api-session-id: $VC_SID"
BENCH_BODY="$WORK/vc-jwt2saml.form"
export BENCH_METHOD BENCH_CTYPE BENCH_AUTH BENCH_HEADER BENCH_BODY
want vc_exchange_jwt_to_saml2 && run vc_exchange_jwt_to_saml2 "$RSA_SIGN" "$mode" 16 /api/vcenter/authentication/token
BENCH_BODY="$WORK/vc-saml2jwt.form"; export BENCH_BODY
want vc_exchange_saml2_to_id_token && run vc_exchange_saml2_to_id_token "$RSA_SIGN" "$mode" 16 /api/vcenter/authentication/token
export BENCH_HEADER=
