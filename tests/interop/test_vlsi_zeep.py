"""Interop tests: the zeep SOAP client (and raw HTTP) against a running vlsim.

The server is started by the `vlsim_url` fixture (see conftest.py).
"""
from __future__ import annotations

import base64
import datetime as dt

import jwt
import pytest
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from conftest import start_server
from vlsi_helpers import (
    ADMIN,
    AUDITOR,
    DOMAIN,
    MOR_AUTH,
    MOR_JWT,
    NOT_AUTHENTICATED,
    SOAP_HEADERS,
    SOAPENV_NS,
    VDI_NS,
    WSDL_PATH,
    XSD_PATH,
    check_fault_detail,
    child_texts,
    events,
    generate_xml,
    get_public_keys_xml,
    http_session,
    local,
    login_xml,
    op_xml,
    parse_rfc3339,
    parse_soap,
    this_xml,
    validate_element,
    verify_jwt,
)

WSDL_PLACEHOLDER = "https://vlsim.invalid/view-vlsi/sdk"


# ---------------------------------------------------------------------------
# helpers


def new_client(url: str) -> zeep.Client:
    """A zeep client with its own cookie-keeping requests session (no env proxies)."""
    s = http_session()
    client = zeep.Client(f"{url}/view-vlsi/sdk?wsdl", transport=Transport(session=s))
    address = client.service._binding_options["address"]
    assert address == f"{url}/view-vlsi/sdk", (
        f"served WSDL's soap:address is {address!r}; the server must rewrite it to {url}/view-vlsi/sdk"
    )
    return client


def login(client: zeep.Client, creds=ADMIN, domain: str = DOMAIN):
    user, password = creds
    return client.service.AuthenticationManager_Login(
        _this=MOR_AUTH, username=user, password={"utf8String": password.encode("utf-8")}, domain=domain
    )


def generate(client: zeep.Client, validity: int | None = None, mor=MOR_JWT):
    if validity is None:
        return client.service.JwtToken_Generate(_this=mor)
    return client.service.JwtToken_Generate(_this=mor, spec={"validityTime": validity})


def public_keys(client: zeep.Client) -> list[str]:
    infos = client.service.JwtToken_GetPublicKeys(_this=MOR_JWT)
    assert infos, "JwtToken_GetPublicKeys returned no JwtPublicKeyInfo"
    return [k for info in infos for k in (info.keys or [])]


def expect_fault(fault_type: str, fn, *args, **kwargs):
    """Call fn, expect a zeep Fault with a typed detail; return (fault, detail child)."""
    with pytest.raises(zeep.exceptions.Fault) as exc:
        fn(*args, **kwargs)
    fault = exc.value
    child = check_fault_detail(fault.detail, fault_type)
    return fault, child


@pytest.fixture
def admin(vlsim_url) -> zeep.Client:
    c = new_client(vlsim_url)
    assert login(c) is None
    return c


@pytest.fixture
def anon(vlsim_url) -> zeep.Client:
    return new_client(vlsim_url)


# ---------------------------------------------------------------------------
# WSDL / XSD serving


def canon(el):
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(canon(c) for c in el if isinstance(c.tag, str)),
    )


def test_served_wsdl_is_the_repo_wsdl_with_rewritten_address(vlsim_url, http):
    r = http.get(f"{vlsim_url}/view-vlsi/sdk?wsdl", timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert "xml" in r.headers.get("Content-Type", ""), r.headers.get("Content-Type")
    served = r.content.decode("utf-8")
    assert f'location="{vlsim_url}/view-vlsi/sdk"' in served, "soap:address not rewritten to the request URL"
    restored = served.replace(f"{vlsim_url}/view-vlsi/sdk", WSDL_PLACEHOLDER).encode("utf-8")
    assert canon(etree.fromstring(restored)) == canon(etree.parse(str(WSDL_PATH)).getroot())


@pytest.mark.parametrize("path", ["/view-vlsi/sdk/vdiService.wsdl"])
def test_served_wsdl_alternate_path(vlsim_url, http, path):
    r = http.get(f"{vlsim_url}{path}", timeout=10)
    assert r.status_code == 200, f"GET {path} -> {r.status_code}"
    assert f'location="{vlsim_url}/view-vlsi/sdk"' in r.text


@pytest.mark.parametrize("path", ["/view-vlsi/sdk/vdiService.xsd", "/view-vlsi/sdk?xsd"])
def test_served_xsd_is_the_repo_xsd(vlsim_url, http, path):
    r = http.get(f"{vlsim_url}{path}", timeout=10)
    assert r.status_code == 200, f"GET {path} -> {r.status_code}"
    assert canon(etree.fromstring(r.content)) == canon(etree.parse(str(XSD_PATH)).getroot())


# ---------------------------------------------------------------------------
# happy paths


def test_generate_with_validity_60_verifies_with_public_keys(vlsim_url, admin):
    info = generate(admin, 60)
    assert info.token and info.token.count(".") == 2
    keys = public_keys(new_client(vlsim_url))  # GetPublicKeys needs no session
    assert all("BEGIN PUBLIC KEY" in k for k in keys), keys
    header, claims = verify_jwt(info.token, keys)
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["exp"] - claims["iat"] == 3600, claims
    assert info.expiryTime is not None, "expiryTime should be set"
    assert isinstance(info.expiryTime, dt.datetime) and info.expiryTime.tzinfo is not None
    assert abs(info.expiryTime.timestamp() - claims["exp"]) < 1.0, (info.expiryTime, claims["exp"])


def test_generate_without_spec_defaults_to_30_minutes(vlsim_url, admin):
    info = generate(admin)
    _, claims = verify_jwt(info.token, public_keys(new_client(vlsim_url)))
    assert claims["exp"] - claims["iat"] == 1800, claims


def test_generate_with_empty_spec_defaults_to_30_minutes(vlsim_url, admin):
    info = admin.service.JwtToken_Generate(_this=MOR_JWT, spec={})
    _, claims = verify_jwt(info.token, public_keys(new_client(vlsim_url)))
    assert claims["exp"] - claims["iat"] == 1800, claims


def test_get_public_keys_without_session(anon):
    infos = anon.service.JwtToken_GetPublicKeys(_this=MOR_JWT)
    assert len(infos) >= 1
    for info in infos:
        assert info.connectionServerName
        assert info.keys, "each JwtPublicKeyInfo should carry at least one key"
        for pem in info.keys:
            assert pem.strip().startswith("-----BEGIN PUBLIC KEY-----"), pem[:60]


def test_get_public_keys_with_session(admin):
    assert public_keys(admin)


def test_login_by_token_in_fresh_client(vlsim_url, admin):
    token = generate(admin, 10).token
    fresh = new_client(vlsim_url)
    assert fresh.service.AuthenticationManager_LoginByToken(_this=MOR_AUTH, data={"token": token}) is None
    info = generate(fresh, 5)
    _, claims = verify_jwt(info.token, public_keys(fresh))
    assert claims["exp"] - claims["iat"] == 300


def test_set_locale(admin):
    assert admin.service.AuthenticationManager_SetLocale(_this=MOR_AUTH, locale="fr") is None
    # the session still works afterwards
    assert generate(admin).token


# ---------------------------------------------------------------------------
# faults


def test_auditor_lacks_privilege_and_failure_is_audited(vlsim_url, http):
    c = new_client(vlsim_url)
    login(c, AUDITOR)
    fault, child = expect_fault("InsufficientPermission", generate, c, 60)
    assert "ADMINISTRATOR" in child_texts(child, "privileges"), etree.tostring(child).decode()
    assert fault.code == "ServerFaultCode"

    evs = events(http, vlsim_url, "VLSI_JWT_TOKEN_GENERATION_FAILED")
    mine = [e for e in evs if e.get("user") == "VLSIM\\auditor"]
    assert mine, f"no VLSI_JWT_TOKEN_GENERATION_FAILED event for VLSIM\\auditor in {evs}"
    e = mine[0]
    assert e["type"] == "VLSI_JWT_TOKEN_GENERATION_FAILED"
    assert e["severity"] == "AUDIT_FAIL"
    assert e["module"] == "Vlsi"
    assert e["surface"] == "vlsi"
    assert e.get("message")
    assert "id" in e
    parse_rfc3339(e["time"])
    assert all(ev["type"] == "VLSI_JWT_TOKEN_GENERATION_FAILED" for ev in evs), "type filter not applied"


def test_success_is_audited_newest_first(vlsim_url, admin, http):
    generate(admin, 1)
    generate(admin, 2)
    evs = events(http, vlsim_url, "VLSI_JWT_TOKEN_GENERATED")
    assert len(evs) >= 2
    assert all(e["type"] == "VLSI_JWT_TOKEN_GENERATED" for e in evs)
    e = evs[0]
    assert e["severity"] == "AUDIT_SUCCESS" and e["module"] == "Vlsi" and e["surface"] == "vlsi"
    assert e["user"] == "VLSIM\\administrator"
    times = [parse_rfc3339(ev["time"]) for ev in evs]
    assert times == sorted(times, reverse=True), "events must be newest first"


def test_wrong_password_is_invalid_credentials(anon):
    fault, child = expect_fault("InvalidCredentials", login, anon, ("administrator", "wrong"))
    assert fault.message


def test_unknown_user_is_invalid_credentials(anon):
    expect_fault("InvalidCredentials", login, anon, ("nobody", "vmware"))


def test_generate_without_session_is_security_error(anon):
    fault, _ = expect_fault("SecurityError", generate, anon, 60)
    assert fault.message == NOT_AUTHENTICATED


@pytest.mark.parametrize("validity", [0, -5])
def test_non_positive_validity_is_invalid_argument(admin, validity):
    fault, child = expect_fault("InvalidArgument", generate, admin, validity)
    assert child_texts(child, "parameterName") == ["spec.validityTime"]


def test_unknown_mor_value_is_entity_not_found(admin):
    expect_fault("EntityNotFound", generate, admin, 60, mor={"_value_1": "Nope", "type": "JwtToken"})


def test_wrong_mor_type_is_invalid_type(admin):
    expect_fault("InvalidType", generate, admin, 60, mor=dict(MOR_AUTH))


def test_login_by_tampered_token_is_invalid_credentials(vlsim_url, admin):
    token = generate(admin, 10).token
    head, payload, sig = token.split(".")
    sig = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    fresh = new_client(vlsim_url)
    expect_fault(
        "InvalidCredentials",
        fresh.service.AuthenticationManager_LoginByToken,
        _this=MOR_AUTH,
        data={"token": f"{head}.{payload}.{sig}"},
    )
    # and the failed LoginByToken did not create a session
    expect_fault("SecurityError", generate, fresh)


def test_login_by_garbage_token_is_invalid_credentials(anon):
    expect_fault("InvalidCredentials", anon.service.AuthenticationManager_LoginByToken, _this=MOR_AUTH, data={"token": "not-a-jwt"})


def test_logout_then_generate_is_security_error(admin):
    assert generate(admin).token
    assert admin.service.AuthenticationManager_Logout(_this=MOR_AUTH) is None
    fault, _ = expect_fault("SecurityError", generate, admin)
    assert fault.message == NOT_AUTHENTICATED


def test_set_locale_unknown_is_invalid_argument(admin):
    _, child = expect_fault("InvalidArgument", admin.service.AuthenticationManager_SetLocale, _this=MOR_AUTH, locale="xx")
    assert child_texts(child, "parameterName") == ["locale"]


# ---------------------------------------------------------------------------
# raw HTTP: response shapes validated against wsdl/vdi.xsd


def post(http, url: str, body: str):
    return http.post(f"{url}/view-vlsi/sdk", data=body.encode("utf-8"), headers=SOAP_HEADERS, timeout=10)


def check_envelope(r, status: int):
    assert r.status_code == status, f"HTTP {r.status_code}, want {status}: {r.text[:500]}"
    ctype = r.headers.get("Content-Type", "")
    assert ctype.startswith("text/xml"), ctype
    root, child = parse_soap(r.content)
    assert root.prefix == "soapenv", f"envelope prefix is {root.prefix!r}"
    return root, child


def faultcode(fault):
    """faultcode as 'ServerFaultCode' (vim25's unqualified code) or '{ns}local' when prefixed."""
    code = fault.findtext("faultcode") or ""
    prefix, _, name = code.rpartition(":")
    if not prefix:
        return code
    return f"{{{fault.find('faultcode').nsmap.get(prefix)}}}{name}"


def check_fault(r, fault_type: str, status: int = 500, codes=("ServerFaultCode",)):
    _, fault = check_envelope(r, status)
    assert fault.tag == f"{{{SOAPENV_NS}}}Fault", f"Body child is {fault.tag}: {r.text[:500]}"
    assert faultcode(fault) in codes, r.text[:500]
    assert fault.find("faultstring") is not None
    child = check_fault_detail(fault.find("detail"), fault_type)
    validate_element(child)
    return fault, child


def test_raw_responses_validate_against_xsd(vlsim_url, http):
    # Login
    r = post(http, vlsim_url, login_xml(*ADMIN))
    _, child = check_envelope(r, 200)
    assert child.tag == f"{{{VDI_NS}}}AuthenticationManager_LoginResponse"
    assert len(child) == 0
    validate_element(child)
    assert http.cookies, f"Login set no cookie (Set-Cookie: {r.headers.get('Set-Cookie')!r})"

    # Generate (session cookie replayed by the requests session)
    for body in (generate_xml(60), generate_xml()):
        r = post(http, vlsim_url, body)
        _, child = check_envelope(r, 200)
        assert child.tag == f"{{{VDI_NS}}}JwtToken_GenerateResponse", r.text[:500]
        validate_element(child)
        rv = child.find(f"{{{VDI_NS}}}returnval")
        assert rv.findtext(f"{{{VDI_NS}}}token")
        assert rv.findtext(f"{{{VDI_NS}}}expiryTime")

    # GetPublicKeys without a session
    r = post(http_session(), vlsim_url, get_public_keys_xml())
    _, child = check_envelope(r, 200)
    assert child.tag == f"{{{VDI_NS}}}JwtToken_GetPublicKeysResponse", r.text[:500]
    validate_element(child)
    assert child.findall(f"{{{VDI_NS}}}returnval")

    # a fault
    fault, child = check_fault(post(http, vlsim_url, generate_xml(0)), "InvalidArgument")
    assert child_texts(child, "parameterName") == ["spec.validityTime"]
    assert fault.findtext("faultstring")


def test_raw_login_cookie_usable_over_plain_http(vlsim_url):
    r = post(http_session(), vlsim_url, login_xml(*ADMIN))
    check_envelope(r, 200)
    set_cookie = r.headers.get("Set-Cookie", "")
    assert set_cookie, "Login response has no Set-Cookie"
    # Python's cookie jars (requests, urllib/suds) never send a Secure cookie over http://
    assert "secure" not in [a.strip().lower() for a in set_cookie.split(";")], (
        f"session cookie is marked Secure on a plain-HTTP listener: {set_cookie!r}"
    )
    path = [a.strip()[5:] for a in set_cookie.split(";") if a.strip().lower().startswith("path=")]
    assert not path or "/view-vlsi/sdk".startswith(path[0].rstrip("/") or "/"), set_cookie


def test_raw_fault_not_authenticated(vlsim_url):
    fault, _ = check_fault(post(http_session(), vlsim_url, generate_xml(60)), "SecurityError")
    assert fault.findtext("faultstring") == NOT_AUTHENTICATED


def test_raw_fault_invalid_credentials(vlsim_url):
    check_fault(post(http_session(), vlsim_url, login_xml("administrator", "nope")), "InvalidCredentials")


def test_raw_fault_insufficient_permission(vlsim_url):
    s = http_session()
    check_envelope(post(s, vlsim_url, login_xml(*AUDITOR)), 200)
    _, child = check_fault(post(s, vlsim_url, generate_xml(60)), "InsufficientPermission")
    assert "ADMINISTRATOR" in child_texts(child, "privileges")


def test_raw_unknown_method_is_invalid_request(vlsim_url):
    s = http_session()
    check_envelope(post(s, vlsim_url, login_xml(*ADMIN)), 200)
    # an unknown operation is the client's mistake: soapenv:Client is fine, so is vim25's ServerFaultCode
    check_fault(
        post(s, vlsim_url, op_xml("JwtToken_NoSuchMethod", this_xml("JwtToken"))),
        "InvalidRequest",
        codes=("ServerFaultCode", f"{{{SOAPENV_NS}}}Client"),
    )


def test_raw_malformed_xml_is_client_fault(vlsim_url):
    r = post(http_session(), vlsim_url, "<soapenv:Envelope xmlns:soapenv='x'><unclosed>")
    assert r.status_code in (400, 500), r.status_code
    _, fault = parse_soap(r.content)
    assert local(fault) == "Fault"
    assert faultcode(fault) == f"{{{SOAPENV_NS}}}Client", f"faultcode {fault.findtext('faultcode')!r}, want soapenv:Client"


def test_raw_password_is_base64_of_utf8(vlsim_url):
    # the same login, but the SecureString written by hand: base64("vmware") == "dm13YXJl"
    assert base64.b64encode(b"vmware") == b"dm13YXJl"
    body = op_xml(
        "AuthenticationManager_Login",
        this_xml("AuthenticationManager")
        + "<username>administrator</username><password><utf8String>dm13YXJl</utf8String></password><domain>VLSIM</domain>",
    )
    check_envelope(post(http_session(), vlsim_url, body), 200)


# ---------------------------------------------------------------------------
# restart: state in --data-dir survives SIGTERM + start


def _run_then_restart(data):
    """Start vlsim on `data`, log in as admin and mint a token, stop; start again."""
    first = start_server(data)
    try:
        c = new_client(first.url)
        login(c)
        token = generate(c, 60).token
        keys_before = public_keys(c)
        verify_jwt(token, keys_before)
        cookies = list(c.transport.session.cookies)
    finally:
        first.stop_and_check()
    return start_server(data), token, keys_before, cookies


def test_restart_keeps_keys_and_tokens(tmp_path):
    second, token, keys_before, _ = _run_then_restart(tmp_path / "data")
    try:
        fresh = new_client(second.url)
        keys_after = public_keys(fresh)
        assert sorted(keys_after) == sorted(keys_before), "public keys changed across a restart"
        verify_jwt(token, keys_after)
        # a token minted before the restart still logs in
        assert fresh.service.AuthenticationManager_LoginByToken(_this=MOR_AUTH, data={"token": token}) is None
        assert generate(fresh).token
    finally:
        second.stop_and_check()


def test_restart_keeps_sessions_and_events(tmp_path):
    second, _, _, cookies = _run_then_restart(tmp_path / "data")
    try:
        assert cookies, "Login set no cookie"
        again = new_client(second.url)
        for ck in cookies:
            again.transport.session.cookies.set_cookie(ck)
        # the pre-restart session cookie is still valid (sessions are persisted)
        assert generate(again).token
        evs = events(http_session(), second.url, "VLSI_JWT_TOKEN_GENERATED")
        assert len(evs) >= 2, f"events before the restart were lost: {evs}"
    finally:
        second.stop_and_check()
