"""Interop tests: the Horizon Server REST surface (/rest/login, /rest/refresh, /rest/logout,
/rest/external/v1|v2/audit-events, /rest/monitor/.../connection-servers, /rest/config/...)
driven by the community SDK `omnissa-horizon` 1.0.1 (PyPI; generated from the Horizon Server
swagger v2603), plus the cross-surface check that a SOAP JwtToken_Generate and a REST login
show up with the same ids through REST audit-events and SOAP QueryService_Query.

The wire rules are in README.md, "Horizon REST". Facts about the SDK worth knowing when
reading a failure:

- The SDK talks plain HTTP fine (its base URL is `<server_url>/rest`); `verify_ssl` only
  matters for https. Its `requests.Session` honours proxy variables unless `trust_env` is
  switched off, which `new_client` does.
- Every status >= 400 raises `HorizonAPIError(status_code, str(json_body), response)`.
- It returns bodies only: response headers (HAS_MORE_RECORDS) are read through its
  session (`client._session`), which carries the same Authorization header.
- `refresh_access_token()` stores `data.get("refresh_token")`, i.e. None after a
  spec-faithful `{"access_token"}` reply, and `logout()` then silently sends nothing. The
  tests restore the refresh token where they need a real logout after a refresh.
- `logout()` ignores the response status.

A module-scoped server of its own keeps the event log predictable.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
import zeep
from omnissa_horizon import HorizonAPIError, HorizonClient
from zeep import xsd
from zeep.transports import Transport

from conftest import start_server
from vlsi_helpers import ADMIN, AUDITOR, DOMAIN, MOR_AUTH, MOR_JWT, http_session, verify_jwt

CS_NAME = "cs1.vlsim.test"
FUSIONAUTH_ISSUER = "vlsim.test"  # issuer of the FusionAuth "Default" tenant (fixtures)
RSA_KID = "40000000-0000-4000-8000-000000000001"
MOR_QS = {"_value_1": "QueryService", "type": "QueryService"}

LOGIN_OK = "REST_AUTH_LOGIN_SUCCESS"
LOGIN_FAILED = "REST_AUTH_LOGIN_FAILURE"
LOGOUT_OK = "REST_AUTH_LOGOUT_SUCCESS"
GENERATED = "VLSI_JWT_TOKEN_GENERATED"

ACCESS_TTL = 30 * 60  # fixture defaults (DESIGN.md): access 30 min, refresh 8 h
REFRESH_TTL = 8 * 60 * 60

AUDIT_FIELDS = {
    "id", "type", "severity", "module", "message", "time", "user_id", "machine_dns_name",
    "machine_id", "desktop_pool_name", "application_pool_name", "persistent_disk_id",
}


# ---------------------------------------------------------------------------
# helpers


def new_client(url: str) -> HorizonClient:
    c = HorizonClient(url, verify_ssl=False, timeout=10)
    c._session.trust_env = False  # proxy / CA-bundle variables must not redirect loopback calls
    return c


def login(url: str, creds=ADMIN, domain: str = DOMAIN) -> HorizonClient:
    c = new_client(url)
    user, password = creds
    data = c.login(user, password, domain)
    assert set(data) == {"access_token", "refresh_token"}, data
    return c


def plain() -> requests.Session:
    """A plain session (no Authorization header, no proxies) for wire-level checks."""
    return http_session()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def expect_api_error(status: int, fn, *args, **kwargs) -> HorizonAPIError:
    with pytest.raises(HorizonAPIError) as exc:
        fn(*args, **kwargs)
    err = exc.value
    assert err.status_code == status, f"expected HTTP {status}, got {err}"
    return err


def check_error_body(resp: requests.Response) -> dict:
    """The error envelope: error_message plus errors[{error_key, error_message}]."""
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body.get("error_message"), str) and body["error_message"], body
    assert isinstance(body.get("errors"), list) and body["errors"], body
    for e in body["errors"]:
        assert isinstance(e.get("error_key"), str) and e["error_key"], body
        assert isinstance(e.get("error_message"), str) and e["error_message"], body
    return body


def filter_param(f: dict) -> str:
    # The SDK passes `filter` through to requests, which URL-encodes it (spaces become '+').
    # json.dumps' default separators put spaces in, so this also checks '+' decoding.
    return json.dumps(f)


def eq(name: str, value) -> dict:
    return {"type": "Equals", "name": name, "value": value}


def between_time(t0: int, t1: int) -> dict:
    return {"type": "Between", "name": "time", "fromValue": t0, "toValue": t1}


def now_ms() -> int:
    return int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)


def audit_events(c: HorizonClient, version: int = 1, **params) -> list[dict]:
    fn = c.external.list_audit_events if version == 1 else c.external.list_audit_events_v2
    events = fn(**params)
    assert isinstance(events, list), events
    return events


def newest_event_id(c: HorizonClient) -> int:
    events = audit_events(c, page=1, size=1)
    return events[0]["id"] if events else 0


def check_audit_item(ev: dict) -> None:
    assert set(ev) <= AUDIT_FIELDS, f"unexpected fields {set(ev) - AUDIT_FIELDS}"
    assert None not in ev.values(), f"absent fields must be omitted, not null: {ev}"
    assert isinstance(ev["id"], int) and not isinstance(ev["id"], bool)
    assert isinstance(ev["time"], int) and ev["time"] > 1_600_000_000_000, "time is epoch milliseconds"
    assert ev["severity"] in {"INFO", "WARNING", "ERROR", "AUDIT_SUCCESS", "AUDIT_FAIL", "UNKNOWN"}
    assert isinstance(ev["type"], str) and isinstance(ev["module"], str) and isinstance(ev["message"], str)
    assert ev["machine_dns_name"] == CS_NAME


def zeep_client(url: str) -> zeep.Client:
    return zeep.Client(f"{url}/view-vlsi/sdk?wsdl", transport=Transport(session=http_session()))


def zeep_login(client: zeep.Client, creds=ADMIN) -> zeep.Client:
    user, password = creds
    client.service.AuthenticationManager_Login(
        _this=MOR_AUTH, username=user, password={"utf8String": password.encode("utf-8")}, domain=DOMAIN
    )
    return client


def public_keys(url: str) -> list[str]:
    infos = zeep_client(url).service.JwtToken_GetPublicKeys(_this=MOR_JWT)  # no session needed
    return [k for info in infos for k in (info.keys or [])]


# ---------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("vlsim-horizon-rest") / "data")
    try:
        yield srv
    finally:
        srv.stop_and_check()


@pytest.fixture
def admin(server):
    c = login(server.url)
    yield c
    c.logout()


@pytest.fixture
def auditor(server):
    c = login(server.url, AUDITOR)
    yield c
    c.logout()


@pytest.fixture(scope="module")
def cs_id(server) -> str:
    c = login(server.url)
    try:
        servers = c.monitor.list_connection_server_monitors()
        assert len(servers) == 1, servers
        return servers[0]["id"]
    finally:
        c.logout()


# ---------------------------------------------------------------------------
# login


def test_login_returns_two_jwts_signed_with_the_connection_server_key(server):
    c = new_client(server.url)
    data = c.login("administrator", "vmware", "VLSIM")  # the issue's reproduction
    try:
        assert set(data) == {"access_token", "refresh_token"}
        assert c._session.headers["Authorization"] == f"Bearer {data['access_token']}"
        keys = public_keys(server.url)
        h_access, access = verify_jwt(data["access_token"], keys)
        h_refresh, refresh = verify_jwt(data["refresh_token"], keys)
        for header, claims in ((h_access, access), (h_refresh, refresh)):
            assert header["kid"] == RSA_KID
            assert claims["iss"] == CS_NAME
        assert abs((access["exp"] - access["iat"]) - ACCESS_TTL) <= 5
        assert abs((refresh["exp"] - refresh["iat"]) - REFRESH_TTL) <= 5
        # Some claim other than the times and the id tells an access from a refresh token
        # (vlsim's is `token_use`; the test does not pin the name).
        volatile = {"iat", "exp", "nbf", "jti"}
        assert {k: v for k, v in access.items() if k not in volatile} != {
            k: v for k, v in refresh.items() if k not in volatile
        }
    finally:
        c.logout()


@pytest.mark.parametrize("username", ["VLSIM\\administrator", "administrator@VLSIM"])
def test_login_accepts_domain_qualified_user_names(server, username):
    c = new_client(server.url)
    c.login(username, "vmware", DOMAIN)
    try:
        assert c.monitor.list_connection_server_monitors()
    finally:
        c.logout()


def test_login_password_as_array_of_one_string(server):
    # The swagger types AuthLogin.password as an array of strings; clients send a string.
    s = plain()
    r = s.post(f"{server.url}/rest/login", json={"domain": DOMAIN, "username": "administrator", "password": ["vmware"]}, timeout=10)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert set(tokens) == {"access_token", "refresh_token"}
    assert s.post(f"{server.url}/rest/logout", json={"refresh_token": tokens["refresh_token"]}, timeout=10).status_code == 200


def test_wrong_password_is_401_with_error_body_and_event(server, admin):
    before = newest_event_id(admin)
    c = new_client(server.url)
    err = expect_api_error(401, c.login, "administrator", "wrong", DOMAIN)
    assert c._access_token is None and "Authorization" not in c._session.headers
    check_error_body(err.response)
    failed = [e for e in audit_events(admin, filter=filter_param(eq("type", LOGIN_FAILED))) if e["id"] > before]
    assert len(failed) == 1, failed
    ev = failed[0]
    check_audit_item(ev)
    assert ev["severity"] == "AUDIT_FAIL" and ev["module"] == "Rest"
    assert ev["message"] == "User VLSIM\\administrator has failed to login to Horizon Server REST API"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"username": "administrator", "domain": "VLSIM"}',
        b'{"username": "administrator", "password": 42, "domain": "VLSIM"}',
        b'{"username": "administrator", "password": ["vmware", "x"], "domain": "VLSIM"}',
    ],
)
def test_malformed_login_body_is_400_with_error_body(server, body):
    r = plain().post(
        f"{server.url}/rest/login", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert r.status_code == 400, r.text
    check_error_body(r)


def test_login_success_event(server, admin):
    before = newest_event_id(admin)
    c = login(server.url)
    try:
        events = [e for e in audit_events(admin, filter=filter_param(eq("type", LOGIN_OK))) if e["id"] > before]
        assert len(events) == 1, events
        ev = events[0]
        check_audit_item(ev)
        assert ev["severity"] == "AUDIT_SUCCESS" and ev["module"] == "Rest"
        assert ev["message"] == "User VLSIM\\administrator has logged in to Horizon Server REST API"
    finally:
        c.logout()


# ---------------------------------------------------------------------------
# bearer


def test_calls_without_a_valid_bearer_are_401(server, admin):
    url = f"{server.url}/rest/monitor/connection-servers"
    s = plain()
    refresh_token = admin._refresh_token
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": f"Basic {admin._access_token}"},
        bearer(refresh_token),  # a refresh token is not an access token
        bearer(admin._access_token[:-4] + "AAAA"),  # bad signature
    ):
        r = s.get(url, headers=headers, timeout=10)
        assert r.status_code == 401, (headers, r.status_code, r.text)
        check_error_body(r)
    assert s.get(url, headers=bearer(admin._access_token), timeout=10).status_code == 200


def test_sdk_without_login_gets_401(server):
    err = expect_api_error(401, new_client(server.url).monitor.list_connection_server_monitors)
    check_error_body(err.response)


# ---------------------------------------------------------------------------
# monitor


def check_monitor(cs: dict, version: int) -> None:
    assert cs["name"] == CS_NAME
    assert cs["status"] == "OK"
    assert isinstance(cs["details"]["version"], str) and isinstance(cs["details"]["build"], str)
    services = cs["services"]
    assert services and all(s["status"] == "UP" for s in services), services
    assert {s["service_name"] for s in services} <= {
        "PCOIP_SECURE_GATEWAY", "BLAST_SECURE_GATEWAY", "SECURITY_GATEWAY_COMPONENT", "CRL_PREFETCH"
    }
    for key in ("connection_count", "tunnel_connection_count"):
        assert isinstance(cs[key], int), key
    for p in cs.get("session_protocol_data", []):
        assert isinstance(p["session_count"], int) and p["session_protocol"] in {
            "PCOIP", "RDP", "BLAST", "CONSOLE", "ULTRA", "UNKNOWN"
        }
    if version >= 2:
        assert isinstance(cs["last_updated_timestamp"], int)
    if version >= 3:
        for key in ("unrecognized_pcoip_requests_count", "unrecognized_tunnel_requests_count",
                    "unrecognized_xmlapi_requests_count"):
            assert isinstance(cs[key], int), key
    assert "certificate" not in cs, "plain HTTP: no TLS certificate to report"


def test_monitor_connection_servers_all_versions(admin, cs_id):
    m = admin.monitor
    lists = {
        1: m.list_connection_server_monitors(),  # GET /rest/monitor/connection-servers
        2: m.list_connection_server_monitors_v2(),
        3: m.list_connection_server_monitors_v3(),
        4: m.list_connection_server_monitors_v4(),
    }
    for version, servers in lists.items():
        assert [cs["id"] for cs in servers] == [cs_id], (version, servers)
        check_monitor(servers[0], version)
    # The SDK's method names follow the response schema, not the path version:
    check_monitor(m.get_connection_server_monitor_info_v2(cs_id), 2)  # GET /monitor/v1/connection-servers/{id}
    check_monitor(m.get_connection_server_monitor_info_v3(cs_id), 3)  # GET /monitor/v2/connection-servers/{id}
    check_monitor(m.get_connection_server_monitor_info_v4(cs_id), 4)  # GET /monitor/v4/connection-servers/{id}
    # vlsim aliases for paths the swagger lacks
    check_monitor(admin.request("GET", "/monitor/v1/connection-servers")[0], 1)
    check_monitor(admin.request("GET", f"/monitor/v3/connection-servers/{cs_id}"), 3)


def test_monitor_unknown_id_is_404(admin):
    err = expect_api_error(404, admin.monitor.get_connection_server_monitor_info_v4, "no-such-server")
    check_error_body(err.response)


# ---------------------------------------------------------------------------
# audit events


def test_audit_events_with_filter_newest_first_v1_and_v2(server, admin):
    t0 = now_ms() - 1000
    for _ in range(3):
        login(server.url).logout()
    t1 = now_ms() + 1000
    f = filter_param({"type": "And", "filters": [eq("type", LOGIN_OK), between_time(t0, t1)]})
    v1 = audit_events(admin, filter=f, page=1, size=100)
    assert len(v1) >= 3, v1
    for ev in v1:
        check_audit_item(ev)
        assert ev["type"] == LOGIN_OK and t0 <= ev["time"] <= t1
    assert [e["time"] for e in v1] == sorted((e["time"] for e in v1), reverse=True), "newest first"
    assert len({e["id"] for e in v1}) == len(v1)
    v2 = audit_events(admin, version=2, filter=f, page=1, size=100)
    assert [e["id"] for e in v2] == [e["id"] for e in v1]
    # without page/size the list is not paginated
    assert [e["id"] for e in audit_events(admin, filter=f)] == [e["id"] for e in v1]


def test_audit_events_between_is_inclusive(admin):
    ev = audit_events(admin, page=1, size=1)[0]
    exact = audit_events(admin, filter=filter_param(between_time(ev["time"], ev["time"])))
    assert ev["id"] in {e["id"] for e in exact}


def test_audit_events_other_filters(server, admin):
    login(server.url).logout()
    t = {"type": "Between", "name": "time", "fromValue": now_ms() - 60_000, "toValue": now_ms() + 1000}
    both = audit_events(admin, filter=filter_param({"type": "Or", "filters": [eq("type", LOGIN_OK), eq("type", LOGOUT_OK)]}))
    assert {e["type"] for e in both} == {LOGIN_OK, LOGOUT_OK}
    rest = audit_events(admin, filter=filter_param({"type": "And", "filters": [eq("module", "Rest"), t]}))
    assert rest and all(e["module"] == "Rest" for e in rest)
    not_rest = audit_events(admin, filter=filter_param({"type": "Not", "filter": eq("module", "Rest")}))
    assert all(e["module"] != "Rest" for e in not_rest)
    ne = audit_events(admin, filter=filter_param({"type": "NotEquals", "name": "module", "value": "Rest"}))
    assert [e["id"] for e in ne] == [e["id"] for e in not_rest]
    contains = audit_events(admin, filter=filter_param({"type": "Contains", "name": "message", "value": "Horizon Server REST API"}))
    assert contains and all("Horizon Server REST API" in e["message"] for e in contains)
    starts = audit_events(admin, filter=filter_param({"type": "StartsWith", "name": "type", "value": "REST_AUTH_"}))
    assert starts and all(e["type"].startswith("REST_AUTH_") for e in starts)
    by_id = audit_events(admin, filter=filter_param(eq("id", both[0]["id"])))
    assert [e["id"] for e in by_id] == [both[0]["id"]]


def test_audit_events_paging_and_has_more_records(server, admin):
    for _ in range(3):
        login(server.url).logout()
    f = filter_param(eq("type", LOGIN_OK))
    everything = audit_events(admin, filter=f)
    assert len(everything) >= 3
    # The SDK returns only the body; read the header through the SDK's own session.
    s = admin._session
    seen, page = [], 1
    while True:
        r = s.get(f"{admin.base_url}/external/v1/audit-events", params={"filter": f, "page": page, "size": 2}, timeout=10)
        assert r.status_code == 200, r.text
        items = r.json()
        seen += items
        if "HAS_MORE_RECORDS" not in r.headers:
            assert len(items) <= 2
            break
        assert r.headers["HAS_MORE_RECORDS"].upper() == "TRUE"
        assert len(items) == 2
        page += 1
    assert [e["id"] for e in seen] == [e["id"] for e in everything]
    # a page past the end is a 400 (Pagination guide); an empty first page is not
    r = s.get(f"{admin.base_url}/external/v1/audit-events", params={"filter": f, "page": page + 1, "size": 2}, timeout=10)
    assert r.status_code == 400, r.text
    empty = filter_param(eq("type", "NO_SUCH_EVENT_TYPE"))
    r = s.get(f"{admin.base_url}/external/v1/audit-events", params={"filter": empty, "page": 1, "size": 2}, timeout=10)
    assert r.status_code == 200 and r.json() == [] and "HAS_MORE_RECORDS" not in r.headers


def test_audit_events_sorting(admin):
    asc = audit_events(admin, sort_by="type", order_by="ASC")
    assert [e["type"] for e in asc] == sorted(e["type"] for e in asc)
    desc = audit_events(admin, sort_by="type", order_by="DESC")
    assert [e["type"] for e in desc] == sorted((e["type"] for e in desc), reverse=True)
    default_asc = audit_events(admin, sort_by="time")
    assert [e["time"] for e in default_asc] == sorted(e["time"] for e in default_asc), "order_by defaults to ASC"


@pytest.mark.parametrize(
    "params, mentions",
    [
        ({"filter": "{not json"}, "filter"),
        ({"filter": json.dumps({"type": "Equals", "name": "colour", "value": "red"})}, "colour"),
        ({"filter": json.dumps({"type": "Sometimes", "name": "type", "value": "x"})}, "Sometimes"),
        ({"filter": json.dumps({"type": "And", "filters": "nope"})}, "filters"),
        ({"filter": json.dumps({"type": "Between", "name": "time", "fromValue": "yesterday", "toValue": 1})}, "fromValue"),
        ({"page": 0, "size": 10}, "page"),
        ({"page": 1, "size": 0}, "size"),
        ({"page": 1, "size": 1001}, "size"),
        ({"page": "one", "size": 10}, "page"),
        ({"sort_by": "user_id"}, "user_id"),
        ({"order_by": "DESC"}, "sort_by"),
        ({"sort_by": "time", "order_by": "SIDEWAYS"}, "order_by"),
    ],
)
def test_audit_events_bad_parameters_are_400_naming_the_problem(admin, params, mentions):
    err = expect_api_error(400, admin.external.list_audit_events, **params)
    body = check_error_body(err.response)
    assert mentions in body["error_message"], body


# ---------------------------------------------------------------------------
# config reads


def test_config_reads(admin, cs_id):
    auths = admin.config.list_jwt_authenticators()  # GET /rest/config/v1/jwt-authenticators
    assert len(auths) == 1, auths
    a = auths[0]
    assert {"id", "name", "issuer"} <= set(a)
    assert a["issuer"] == FUSIONAUTH_ISSUER
    assert ".well-known/" in a["url"], a["url"]
    jwks = [json.loads(k) for k in a["public_keys"]]  # JWK JSON *strings*
    assert any(k.get("kid") == RSA_KID and k.get("kty") == "RSA" for k in jwks), jwks

    edb = admin.config.get_event_database()  # GET /rest/config/v1/event-database
    assert edb["event_database_configured"] is True
    assert edb["type"] in {"SQL_SERVER", "ORACLE", "POSTGRESQL"}
    for key in ("server_name", "database_name", "username"):
        assert isinstance(edb[key], str) and edb[key], key
    assert isinstance(edb["port"], int)
    assert "password" not in edb

    servers = admin.config.list_connection_servers()  # GET /rest/config/v1/connection-servers
    assert len(servers) == 1 and set(servers[0]) == {"id", "jwt_info"}, servers
    assert servers[0]["id"] == cs_id
    jwt_info = servers[0]["jwt_info"]
    assert jwt_info["jwt_authenticator_ids"] == [a["id"]]
    assert jwt_info["jwt_support"] in {"DISABLED", "MULTI_ENABLED", "MULTI_REQUIRED"}

    v2 = admin.config.list_connection_servers_v2()  # GET /rest/config/v2/connection-servers
    assert [cs["id"] for cs in v2] == [cs_id]
    assert v2[0]["name"] == CS_NAME and v2[0]["jwt_info"] == jwt_info


def test_auditor_reads_everything_but_cannot_write(auditor, cs_id):
    assert auditor.monitor.list_connection_server_monitors()
    assert auditor.monitor.get_connection_server_monitor_info_v4(cs_id)
    assert isinstance(auditor.external.list_audit_events(page=1, size=5), list)
    assert auditor.external.list_audit_events_v2(page=1, size=5) is not None
    assert auditor.config.list_jwt_authenticators()
    assert auditor.config.get_event_database()["event_database_configured"] is True
    assert auditor.config.list_connection_servers()
    assert auditor.config.list_connection_servers_v2()
    err = expect_api_error(
        403, auditor.config.create_jwt_authenticator, {"name": "x", "issuer": "x", "url": "https://x.invalid/"}
    )
    check_error_body(err.response)


# ---------------------------------------------------------------------------
# refresh and logout


def test_refresh_returns_only_a_new_access_token(server):
    c = login(server.url)
    refresh_token = c._refresh_token
    data = c.refresh_access_token()
    assert set(data) == {"access_token"}, data  # spec: AccessToken has access_token only
    assert c._access_token == data["access_token"] and c._session.headers["Authorization"] == f"Bearer {data['access_token']}"
    assert c._refresh_token is None  # the SDK's trap: logout() would now send nothing
    _, claims = verify_jwt(data["access_token"], public_keys(server.url))
    assert abs((claims["exp"] - claims["iat"]) - ACCESS_TTL) <= 5
    assert c.monitor.list_connection_server_monitors()
    c._refresh_token = refresh_token
    c.logout()


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": "garbage"}, {"refresh": "x"}])
def test_refresh_with_a_bad_token_is_400(server, body):
    r = plain().post(f"{server.url}/rest/refresh", json=body, timeout=10)
    assert r.status_code == 400, r.text
    check_error_body(r)


def test_refresh_with_an_access_token_is_400_and_ignores_authorization(server, admin):
    s = plain()
    r = s.post(f"{server.url}/rest/refresh", json={"refresh_token": admin._access_token}, timeout=10)
    assert r.status_code == 400, r.text
    # A stale or garbage Authorization header on /refresh is ignored (go-resty clients send one).
    r = s.post(f"{server.url}/rest/refresh", json={"refresh_token": admin._refresh_token},
               headers={"Authorization": "Bearer stale"}, timeout=10)
    assert r.status_code == 200 and set(r.json()) == {"access_token"}, r.text


def test_logout_revokes_every_token_of_the_login(server, admin):
    c = login(server.url)
    access1, refresh_token = c._access_token, c._refresh_token
    access2 = c.refresh_access_token()["access_token"]
    c._refresh_token = refresh_token  # see test_refresh_returns_only_a_new_access_token
    before = newest_event_id(admin)

    c.logout()  # POST /rest/logout {refresh_token} with the Authorization header
    assert c._access_token is None and "Authorization" not in c._session.headers

    s = plain()
    for token in (access1, access2):
        r = s.get(f"{server.url}/rest/monitor/connection-servers", headers=bearer(token), timeout=10)
        assert r.status_code == 401, r.text
        check_error_body(r)
    r = s.post(f"{server.url}/rest/refresh", json={"refresh_token": refresh_token}, timeout=10)
    assert r.status_code == 400, r.text
    r = s.post(f"{server.url}/rest/logout", json={"refresh_token": refresh_token}, timeout=10)
    assert r.status_code == 400, r.text
    expect_api_error(401, c.monitor.list_connection_server_monitors)

    # other logins are untouched
    assert admin.monitor.list_connection_server_monitors()
    events = [e for e in audit_events(admin, filter=filter_param(eq("type", LOGOUT_OK))) if e["id"] > before]
    assert len(events) == 1, events
    assert events[0]["module"] == "Rest" and events[0]["severity"] == "AUDIT_SUCCESS"
    assert events[0]["message"] == "User VLSIM\\administrator has logged out from Horizon Server REST API"


def test_logout_without_authorization_header(server):
    tokens = plain().post(
        f"{server.url}/rest/login", json={"domain": DOMAIN, "username": "administrator", "password": "vmware"}, timeout=10
    ).json()
    r = plain().post(f"{server.url}/rest/logout", json={"refresh_token": tokens["refresh_token"]}, timeout=10)
    assert r.status_code == 200 and r.content == b"", r.text
    r = plain().get(f"{server.url}/rest/monitor/connection-servers", headers=bearer(tokens["access_token"]), timeout=10)
    assert r.status_code == 401


# ---------------------------------------------------------------------------
# everything else under /rest/


def test_unemulated_rest_paths_are_json_404(admin):
    err = expect_api_error(404, admin.inventory.list_desktop_pools)  # GET /rest/inventory/v1/desktop-pools
    body = check_error_body(err.response)
    assert "not emulated" in body["error_message"], body


def test_vcenter_legacy_rest_routes_still_work(server):
    s = plain()
    r = s.post(f"{server.url}/rest/com/vmware/cis/session", auth=("administrator@vsphere.local", "VMware1!"), timeout=10)
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["value"], str)
    assert s.delete(f"{server.url}/rest/com/vmware/cis/session", timeout=10).status_code == 200


# ---------------------------------------------------------------------------
# cross-surface: SOAP JwtToken_Generate + REST login, read through both surfaces


def test_soap_generate_and_rest_login_share_one_event_log(server, admin):
    baseline = newest_event_id(admin)

    soap = zeep_login(zeep_client(server.url))
    soap.service.JwtToken_Generate(_this=MOR_JWT, spec={"validityTime": 5})
    rest = login(server.url)
    try:
        # REST: both events, with ids above the baseline
        f = filter_param({"type": "Or", "filters": [eq("type", GENERATED), eq("type", LOGIN_OK)]})
        rest_events = [e for e in audit_events(admin, filter=f) if e["id"] > baseline]
        by_type = {}
        for e in rest_events:
            check_audit_item(e)
            by_type.setdefault(e["type"], []).append(e)
        assert sorted(by_type) == sorted([GENERATED, LOGIN_OK]), rest_events
        assert len(by_type[GENERATED]) == 1 and len(by_type[LOGIN_OK]) == 1, rest_events
        gen, log_in = by_type[GENERATED][0], by_type[LOGIN_OK][0]
        assert gen["module"] == "Vlsi" and log_in["module"] == "Rest"
        assert gen["id"] < log_in["id"] and gen["time"] <= log_in["time"]
        assert rest_events[0]["id"] == log_in["id"], "newest first"

        # SOAP: the same two events, same ids, through QueryService / AuditEventSummaryView
        equals = soap.get_type("ns0:QueryFilterEquals")
        Or = soap.get_type("ns0:QueryFilterOr")
        definition = soap.get_type("ns0:QueryDefinition")(
            queryEntityType="AuditEventSummaryView",
            filter=Or(filters=[
                equals(memberName="eventType", value=xsd.AnyObject(xsd.String(), GENERATED)),
                equals(memberName="eventType", value=xsd.AnyObject(xsd.String(), LOGIN_OK)),
            ]),
            sortDescending=True,
            maxPageSize=1000,
        )
        page = soap.service.QueryService_Query(_this=MOR_QS, definition=definition)
        soap_events = [e for e in page.results if e.eventId > baseline]
        assert sorted((e.eventType, e.eventId) for e in soap_events) == sorted(
            [(GENERATED, gen["id"]), (LOGIN_OK, log_in["id"])]
        )
        for soap_ev in soap_events:
            rest_ev = gen if soap_ev.eventType == GENERATED else log_in
            assert soap_ev.module == rest_ev["module"]
            assert soap_ev.severity == rest_ev["severity"] == "AUDIT_SUCCESS"
            assert soap_ev.message == rest_ev["message"]
            assert soap_ev.machineDnsName == rest_ev["machine_dns_name"] == CS_NAME
            assert round(soap_ev.time.timestamp() * 1000) == rest_ev["time"]
            assert soap_ev.userDisplayName == "VLSIM\\administrator"
    finally:
        rest.logout()
