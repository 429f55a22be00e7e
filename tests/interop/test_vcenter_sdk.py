"""Interop tests for the vCenter surface.

- The official vSphere Automation SDK for Python (vmware-vcenter / vmware-vapi-runtime
  9.1.1.0) over plain HTTP: vAPI JSON-RPC 2.0 on POST /api.
- Plain `requests` against the form-urlencoded token endpoint and the legacy /rest forms.
- JWTs verified with PyJWT using only the JWKS; SAML assertions verified with signxml using
  only the JWKS `x5c` certificate.

The server is started by the `vlsim_url` fixture (see conftest.py).
"""
from __future__ import annotations

import base64
import gzip
import time
import warnings

import jwt
import pytest
import requests
from cryptography import x509
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidSignature

from com.vmware.cis_client import Session
from com.vmware.oauth2.errors_client import InvalidGrant, InvalidRequest, InvalidScope
from com.vmware.oauth2_client import Constants, TokenInfo
from com.vmware.vapi.std.errors_client import Unauthenticated
from com.vmware.vcenter.authentication_client import Token
from com.vmware.vcenter.tokenservice_client import TokenExchange
from vmware.vapi.lib.connect import get_requests_connector
from vmware.vapi.security.client.security_context_filter import LegacySecurityContextFilter
from vmware.vapi.security.oauth import create_oauth_security_context
from vmware.vapi.security.session import create_session_security_context
from vmware.vapi.security.sso import create_saml_bearer_security_context
from vmware.vapi.security.user_password import create_user_password_security_context
from vmware.vapi.stdlib.client.factories import StubConfigurationFactory

USER = "administrator@vsphere.local"
PASSWORD = "VMware1!"
K8S = "vmware-tes:vc:vns:k8s"
DOMAIN = "vsphere.local"


def plain_session() -> requests.Session:
    s = requests.Session()
    s.verify = False
    s.trust_env = False  # CA-bundle / proxy variables on CI machines must not apply
    return s


def stub_config(url: str, security_context):
    connector = get_requests_connector(
        session=plain_session(),
        msg_protocol="json",
        url=f"{url}/api",
        provider_filter_chain=[LegacySecurityContextFilter(security_context=security_context)],
    )
    return StubConfigurationFactory.new_std_configuration(connector)


def host_of(url: str) -> str:
    return url.split("://", 1)[1]


def issuer(url: str) -> str:
    return f"https://{host_of(url)}/openidconnect/{DOMAIN}"


def jwks_keys(url: str):
    r = plain_session().get(f"{url}/openidconnect/jwks/{DOMAIN}")
    assert r.status_code == 200, r.text
    return r.json()["keys"]


def verify_jwt(url: str, token: str, audience: str) -> dict:
    """Verify with nothing but the JWKS."""
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    jwk = next(k for k in jwks_keys(url) if k["kid"] == header["kid"])
    key = jwt.PyJWK(jwk).key
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer(url))


def jwks_cert_pem(url: str) -> str:
    der = base64.b64decode(jwks_keys(url)[0]["x5c"][0])
    cert = x509.load_der_x509_certificate(der)
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode()


@pytest.fixture
def sdk_session(vlsim_url):
    sid = Session(stub_config(vlsim_url, create_user_password_security_context(USER, PASSWORD))).create()
    yield sid
    try:
        Session(stub_config(vlsim_url, create_session_security_context(sid))).delete()
    except Unauthenticated:
        pass


def token_stub(url, sid) -> Token:
    return Token(stub_config(url, create_session_security_context(sid)))


HORIZON_SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:vdi/2406"'}
FIXTURE_RSA_KEY = "fixtures/keys/rsa-2048.TEST-KEY.pem"
RSA_KID = "40000000-0000-4000-8000-000000000001"


def horizon_jwt(url: str) -> str:
    """A JWT from this vlsim's Horizon surface (JwtToken_Generate, iss cs1.vlsim.test): a
    trusted subject-token issuer, so a token from one surface is exchanged on another."""
    from vlsi_helpers import generate_xml, login_xml, parse_soap

    s = plain_session()
    r = s.post(f"{url}/view-vlsi/sdk", data=login_xml("administrator", "vmware"), headers=HORIZON_SOAP_HEADERS)
    assert r.status_code == 200, r.text
    r = s.post(f"{url}/view-vlsi/sdk", data=generate_xml(30), headers=HORIZON_SOAP_HEADERS)
    assert r.status_code == 200, r.text
    _, body = parse_soap(r.content)
    token = body.find(".//{urn:vdi}token")
    assert token is not None, r.text
    return token.text


def idp_jwt(url: str, **overrides) -> str:
    """An IdP access token for the vCenter administrator, signed with vlsim's documented
    fixture TEST key and naming this vCenter as issuer (a trusted issuer pattern)."""
    from vlsi_helpers import REPO_ROOT

    now = int(time.time())
    claims = {
        "iss": issuer(url),
        "sub": "Administrator@vsphere.local",
        "aud": "vmware-tes:vc:vns:k8s",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    pem = (REPO_ROOT / FIXTURE_RSA_KEY).read_text()
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": RSA_KID})


def issue(tok: Token, **kw) -> TokenInfo:
    kw.setdefault("grant_type", Constants.TOKEN_EXCHANGE_GRANT)
    return tok.issue(Token.IssueSpec(**kw))


def test_sdk_session_lifecycle(vlsim_url):
    sid = Session(stub_config(vlsim_url, create_user_password_security_context(USER, PASSWORD))).create()
    assert isinstance(sid, str) and len(sid) >= 20
    by_sid = Session(stub_config(vlsim_url, create_session_security_context(sid)))
    info = by_sid.get()
    assert info.user == "VSPHERE.LOCAL\\Administrator"
    assert info.created_time <= info.last_accessed_time
    by_sid.delete()
    with pytest.raises(Unauthenticated):
        by_sid.get()
    with pytest.raises(Unauthenticated):
        Session(stub_config(vlsim_url, create_user_password_security_context(USER, "wrong"))).create()


def test_sdk_token_issue_every_type(vlsim_url, sdk_session):
    tok = token_stub(vlsim_url, sdk_session)
    cert = jwks_cert_pem(vlsim_url)

    # 1. IdP access token (JWT) -> SAML2, as VCF 9.1 does.
    saml_info = issue(
        tok,
        subject_token=idp_jwt(vlsim_url),
        subject_token_type=Constants.ACCESS_TOKEN_TYPE,
        requested_token_type=Constants.SAML2_TOKEN_TYPE,
    )
    assert isinstance(saml_info, TokenInfo)
    assert saml_info.issued_token_type == Constants.SAML2_TOKEN_TYPE
    assert saml_info.token_type == "Bearer"
    assert saml_info.expires_in == 299
    assert saml_info.scope is None and saml_info.refresh_token is None
    xml = base64.b64decode(saml_info.access_token, validate=True)
    assert xml.startswith(b"<?xml ")
    verified = XMLVerifier().verify(xml, x509_cert=cert).signed_xml
    ns = {"saml2": "urn:oasis:names:tc:SAML:2.0:assertion"}
    assert verified.findtext("saml2:Subject/saml2:NameID", namespaces=ns) == "Administrator@vsphere.local"

    # 2. SAML2 -> id_token JWT for an audience.
    id_info = issue(
        tok,
        subject_token=saml_info.access_token,
        subject_token_type=Constants.SAML2_TOKEN_TYPE,
        requested_token_type=Constants.ID_TOKEN_TYPE,
        audience=K8S,
    )
    assert id_info.issued_token_type == Constants.ID_TOKEN_TYPE
    assert id_info.token_type == "N_A"
    assert id_info.expires_in == 35999
    assert id_info.scope == "openid"
    assert id_info.refresh_token is None
    claims = verify_jwt(vlsim_url, id_info.access_token, K8S)
    assert claims["sub"] == "Administrator@vsphere.local"
    assert claims["username"] == "Administrator"
    assert claims["domain"] == DOMAIN
    assert claims["group_names"] == [
        "Administrators@vsphere.local",
        "Users@vsphere.local",
        "Everyone@vsphere.local",
    ]
    assert claims["exp"] - claims["iat"] == 36000
    assert len(claims["jti"]) == 36

    # 3. JWT -> JWT (access_token), with an actor token.
    at_info = issue(
        tok,
        subject_token=id_info.access_token,
        subject_token_type=Constants.ID_TOKEN_TYPE,
        requested_token_type=Constants.ACCESS_TOKEN_TYPE,
        audience="vmware-tes:vc:nsxd-v2:nsx",
        actor_token=idp_jwt(vlsim_url),
        actor_token_type=Constants.ACCESS_TOKEN_TYPE,
    )
    assert at_info.issued_token_type == Constants.ACCESS_TOKEN_TYPE
    assert at_info.token_type == "Bearer"
    claims = verify_jwt(vlsim_url, at_info.access_token, "vmware-tes:vc:nsxd-v2:nsx")
    assert claims["sub"] == "Administrator@vsphere.local"
    assert claims["act"] == {"sub": "Administrator@vsphere.local"}

    # 4. Unset requested_token_type: SAML for a JWT subject, id_token for a SAML subject.
    assert issue(tok, subject_token=at_info.access_token,
                 subject_token_type=Constants.ACCESS_TOKEN_TYPE).issued_token_type == Constants.SAML2_TOKEN_TYPE
    assert issue(tok, subject_token=saml_info.access_token, subject_token_type=Constants.SAML2_TOKEN_TYPE,
                 audience=K8S).issued_token_type == Constants.ID_TOKEN_TYPE

    # The SAML token opens a session through the SDK's SAML bearer context, the JWT through
    # the OAuth context; Token.issue also accepts an OAuth context instead of a session.
    sid2 = Session(stub_config(vlsim_url, create_saml_bearer_security_context(xml.decode()))).create()
    info = Session(stub_config(vlsim_url, create_session_security_context(sid2))).get()
    assert info.user == "VSPHERE.LOCAL\\Administrator"
    sid3 = Session(stub_config(vlsim_url, create_oauth_security_context(id_info.access_token))).create()
    assert sid3 != sid2
    via_oauth = issue(
        Token(stub_config(vlsim_url, create_oauth_security_context(at_info.access_token))),
        subject_token=saml_info.access_token,
        subject_token_type=Constants.SAML2_TOKEN_TYPE,
        audience=K8S,
    )
    assert via_oauth.issued_token_type == Constants.ID_TOKEN_TYPE


def test_sdk_horizon_token_is_exchanged(vlsim_url, sdk_session):
    tok = token_stub(vlsim_url, sdk_session)
    info = issue(tok, subject_token=horizon_jwt(vlsim_url), subject_token_type=Constants.ACCESS_TOKEN_TYPE,
                 requested_token_type=Constants.ID_TOKEN_TYPE, audience=K8S)
    claims = verify_jwt(vlsim_url, info.access_token, K8S)
    assert claims["sub"] == "administrator@VLSIM"
    assert claims["domain"] == "VLSIM" and claims["username"] == "administrator"


def test_sdk_typed_oauth2_errors(vlsim_url, sdk_session):
    tok = token_stub(vlsim_url, sdk_session)
    good = idp_jwt(vlsim_url)
    cases = [
        (InvalidRequest, dict(grant_type="password", subject_token=good,
                              subject_token_type=Constants.ACCESS_TOKEN_TYPE)),
        (InvalidRequest, dict(subject_token=good)),
        (InvalidRequest, dict(subject_token_type=Constants.ACCESS_TOKEN_TYPE)),
        (InvalidRequest, dict(subject_token=good, subject_token_type="urn:example:unknown")),
        (InvalidRequest, dict(subject_token=good, subject_token_type=Constants.ACCESS_TOKEN_TYPE,
                              requested_token_type=Constants.REFRESH_TOKEN_TYPE)),
        (InvalidScope, dict(subject_token=good, subject_token_type=Constants.ACCESS_TOKEN_TYPE,
                            requested_token_type=Constants.ID_TOKEN_TYPE, audience=K8S, scope="admin")),
        (InvalidGrant, dict(subject_token=good[:-4] + "AAAA", subject_token_type=Constants.ACCESS_TOKEN_TYPE)),
        (InvalidGrant, dict(subject_token=idp_jwt(vlsim_url, exp=int(time.time()) - 10),
                            subject_token_type=Constants.ACCESS_TOKEN_TYPE)),
        (InvalidGrant, dict(subject_token=idp_jwt(vlsim_url, iss="https://evil.example/idp"),
                            subject_token_type=Constants.ACCESS_TOKEN_TYPE)),
        (InvalidGrant, dict(subject_token=base64.b64encode(b"<not-saml/>").decode(), audience=K8S,
                            subject_token_type=Constants.SAML2_TOKEN_TYPE)),
    ]
    for exc, kw in cases:
        with pytest.raises(exc) as info:
            issue(tok, **kw)
        assert info.value.error_description, kw
    # Without a session or bearer: the std Unauthenticated error.
    anon = Token(stub_config(vlsim_url, create_session_security_context("no-such-session")))
    with pytest.raises(Unauthenticated):
        issue(anon, subject_token=good, subject_token_type=Constants.ACCESS_TOKEN_TYPE)


def test_sdk_saml2_to_id_token_without_audience(vlsim_url, sdk_session):
    """IssueSpec: audience and requested_token_type are each "If missing or null, it is inferred
    from other arguments": a SAML2 subject without either gets an id_token for this vCenter."""
    tok = token_stub(vlsim_url, sdk_session)
    saml = issue(tok, subject_token=idp_jwt(vlsim_url), subject_token_type=Constants.ACCESS_TOKEN_TYPE)
    assert saml.issued_token_type == Constants.SAML2_TOKEN_TYPE
    info = issue(tok, subject_token=saml.access_token, subject_token_type=Constants.SAML2_TOKEN_TYPE)
    assert info.issued_token_type == Constants.ID_TOKEN_TYPE
    claims = verify_jwt(vlsim_url, info.access_token, issuer(vlsim_url))
    assert claims["aud"] == issuer(vlsim_url)
    # Any audience is accepted unless the fixtures list the ones served.
    other = issue(tok, subject_token=saml.access_token, subject_token_type=Constants.SAML2_TOKEN_TYPE,
                  audience="urn:example:anything")
    assert verify_jwt(vlsim_url, other.access_token, "urn:example:anything")["sub"] == "Administrator@vsphere.local"


def test_sdk_legacy_token_exchange(vlsim_url, sdk_session):
    from com.vmware.vcenter.tokenservice_client import InvalidGrant as TsInvalidGrant

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        svc = TokenExchange(stub_config(vlsim_url, create_session_security_context(sdk_session)))
        info = svc.exchange(TokenExchange.ExchangeSpec(
            grant_type=Constants.TOKEN_EXCHANGE_GRANT,
            subject_token=idp_jwt(vlsim_url),
            subject_token_type=Constants.ACCESS_TOKEN_TYPE,
            requested_token_type=Constants.ID_TOKEN_TYPE,
            audience=K8S,
        ))
        assert info.issued_token_type == Constants.ID_TOKEN_TYPE
        verify_jwt(vlsim_url, info.access_token, K8S)
        with pytest.raises(TsInvalidGrant):
            svc.exchange(TokenExchange.ExchangeSpec(
                grant_type=Constants.TOKEN_EXCHANGE_GRANT,
                subject_token="garbage",
                subject_token_type=Constants.ACCESS_TOKEN_TYPE,
            ))


# --------------------------------------------------------------------------------------------
# Plain HTTP: the form-urlencoded endpoint, /api/session, the legacy /rest forms
# --------------------------------------------------------------------------------------------


def test_rest_form_token_endpoint_and_sign_login(vlsim_url):
    s = plain_session()
    r = s.post(f"{vlsim_url}/api/session", auth=(USER, PASSWORD))
    assert r.status_code == 201, r.text
    sid = r.json()
    hdr = {"vmware-api-session-id": sid}
    r = s.get(f"{vlsim_url}/api/session", headers=hdr)
    assert r.status_code == 200 and r.json()["user"] == "VSPHERE.LOCAL\\Administrator"

    idp = idp_jwt(vlsim_url)
    # VCF 9.1 style: Bearer IdP token, form body.
    r = s.post(f"{vlsim_url}/api/vcenter/authentication/token",
               headers={"Authorization": f"Bearer {idp}"},
               data={"grant_type": Constants.TOKEN_EXCHANGE_GRANT,
                     "requested_token_type": Constants.SAML2_TOKEN_TYPE,
                     "subject_token_type": Constants.ACCESS_TOKEN_TYPE,
                     "subject_token": idp})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "issued_token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 299
    saml_b64 = body["access_token"]
    xml = base64.b64decode(saml_b64)

    # SIGN login with base64(gzip(SAML)), as govmomi sends it.
    sign = base64.b64encode(gzip.compress(xml)).decode()
    r = s.post(f"{vlsim_url}/api/session", headers={"Authorization": f'SIGN token="{sign}"'})
    assert r.status_code == 201, r.text
    r = s.get(f"{vlsim_url}/api/session", headers={"vmware-api-session-id": r.json()})
    assert r.json()["user"] == "VSPHERE.LOCAL\\Administrator"

    # SAML -> id_token with the session.
    r = s.post(f"{vlsim_url}/api/vcenter/authentication/token", headers=hdr,
               data={"grant_type": Constants.TOKEN_EXCHANGE_GRANT, "subject_token": saml_b64,
                     "subject_token_type": Constants.SAML2_TOKEN_TYPE, "audience": K8S,
                     "requested_token_type": Constants.ID_TOKEN_TYPE})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "N_A" and r.json()["scope"] == "openid"
    verify_jwt(vlsim_url, r.json()["access_token"], K8S)

    # OAuth2 error bodies.
    for data, code in [
        ({}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": Constants.TOKEN_EXCHANGE_GRANT, "subject_token": "x.y.z",
          "subject_token_type": Constants.ACCESS_TOKEN_TYPE}, "invalid_grant"),
        ({"grant_type": Constants.TOKEN_EXCHANGE_GRANT, "subject_token": saml_b64, "scope": "openid admin",
          "subject_token_type": Constants.SAML2_TOKEN_TYPE}, "invalid_scope"),
    ]:
        r = s.post(f"{vlsim_url}/api/vcenter/authentication/token", headers=hdr, data=data)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == code, (data, r.text)
        assert set(r.json()) == {"error", "error_description"}
    r = s.post(f"{vlsim_url}/api/vcenter/authentication/token", data={"grant_type": "x"})
    assert r.status_code == 401 and r.json()["error_type"] == "UNAUTHENTICATED"

    assert s.delete(f"{vlsim_url}/api/session", headers=hdr).status_code == 204
    assert s.get(f"{vlsim_url}/api/session", headers=hdr).status_code == 401


def test_rest_legacy_session_and_token_exchange(vlsim_url):
    s = plain_session()
    r = s.post(f"{vlsim_url}/rest/com/vmware/cis/session", auth=(USER, PASSWORD))
    assert r.status_code == 200, r.text
    sid = r.json()["value"]
    assert s.cookies.get("vmware-api-session-id") == sid  # cookie-based from here on
    r = s.post(f"{vlsim_url}/rest/com/vmware/cis/session?~action=get")
    assert r.status_code == 200 and r.json()["value"]["user"] == "VSPHERE.LOCAL\\Administrator"
    r = s.post(f"{vlsim_url}/rest/vcenter/tokenservice/token-exchange", json={"spec": {
        "grant_type": Constants.TOKEN_EXCHANGE_GRANT, "subject_token": idp_jwt(vlsim_url),
        "subject_token_type": Constants.ACCESS_TOKEN_TYPE, "requested_token_type": Constants.ID_TOKEN_TYPE,
        "audience": K8S}})
    assert r.status_code == 200, r.text
    value = r.json()["value"]
    assert value["issued_token_type"] == Constants.ID_TOKEN_TYPE and value["token_type"] == "N_A"
    verify_jwt(vlsim_url, value["access_token"], K8S)
    r = s.post(f"{vlsim_url}/rest/vcenter/tokenservice/token-exchange", json={"spec": {
        "grant_type": Constants.TOKEN_EXCHANGE_GRANT, "subject_token": "bogus", "audience": K8S,
        "subject_token_type": Constants.SAML2_TOKEN_TYPE}})
    assert r.status_code == 400
    assert r.json()["type"] == "com.vmware.vcenter.tokenservice.invalid_grant"
    assert s.delete(f"{vlsim_url}/rest/com/vmware/cis/session").status_code == 200
    r = plain_session().get(f"{vlsim_url}/rest/com/vmware/cis/session", headers={"vmware-api-session-id": sid})
    assert r.status_code == 401
    assert r.json()["type"] == "com.vmware.vapi.std.errors.unauthenticated"
    # govmomi's header-only mode: no cookie.
    r = plain_session().post(f"{vlsim_url}/rest/com/vmware/cis/session", auth=(USER, PASSWORD),
                             headers={"vmware-use-header-authn": "true"})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers


# --------------------------------------------------------------------------------------------
# OIDC, JWKS x5c and SAML signatures with signxml
# --------------------------------------------------------------------------------------------


def test_oidc_discovery_and_jwks(vlsim_url):
    s = plain_session()
    r = s.get(f"{vlsim_url}/openidconnect/{DOMAIN}/.well-known/openid-configuration")
    assert r.status_code == 200
    doc = r.json()
    assert doc["issuer"] == issuer(vlsim_url)
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = s.get(doc["jwks_uri"]).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"
    cert = x509.load_der_x509_certificate(base64.b64decode(keys[0]["x5c"][0]))
    assert cert.public_key().public_numbers().n == jwt.PyJWK(keys[0]).key.public_numbers().n
    assert s.get(f"{vlsim_url}/openidconnect/jwks/other.domain").status_code == 404


def test_saml_signature_with_signxml(vlsim_url):
    s = plain_session()
    sid = s.post(f"{vlsim_url}/api/session", auth=(USER, PASSWORD)).json()
    hdr = {"vmware-api-session-id": sid}
    r = s.post(f"{vlsim_url}/api/vcenter/authentication/token", headers=hdr,
               data={"grant_type": Constants.TOKEN_EXCHANGE_GRANT, "subject_token": idp_jwt(vlsim_url),
                     "subject_token_type": Constants.ACCESS_TOKEN_TYPE,
                     "requested_token_type": Constants.SAML2_TOKEN_TYPE})
    assert r.status_code == 200, r.text
    xml = base64.b64decode(r.json()["access_token"])
    cert = jwks_cert_pem(vlsim_url)

    result = XMLVerifier().verify(xml, x509_cert=cert)
    assert etree.QName(result.signed_xml).localname == "Assertion"

    tampered = xml.replace(b"Administrator@vsphere.local", b"Mallory@vsphere.local")
    assert tampered != xml
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(tampered, x509_cert=cert)
    r = s.post(f"{vlsim_url}/api/vcenter/authentication/token", headers=hdr,
               data={"grant_type": Constants.TOKEN_EXCHANGE_GRANT,
                     "subject_token": base64.b64encode(tampered).decode(),
                     "subject_token_type": Constants.SAML2_TOKEN_TYPE, "audience": K8S})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    r = s.post(f"{vlsim_url}/api/session",
               headers={"Authorization": f'SIGN token="{base64.b64encode(gzip.compress(tampered)).decode()}"'})
    assert r.status_code == 401

    # The events of this test's exchanges are in the shared log.
    ev = s.get(f"{vlsim_url}/_vlsim/events", params={"surface": "vcenter", "limit": 200}).json()["events"]
    types = {e["type"] for e in ev}
    assert {"VCENTER_SESSION_CREATED", "VCENTER_TOKEN_ISSUED", "VCENTER_TOKEN_ISSUE_FAILED",
            "VCENTER_LOGIN_FAILED"} <= types
