"""Interop tests: the suds (suds-community) SOAP client against a running vlsim.

suds keeps cookies in its transport's CookieJar, and its default transport
installs urllib.request.ProxyHandler(options.proxy) with proxy={} so the
environment's http_proxy/https_proxy are ignored; we pass proxy={} explicitly.
suds maps xsd:base64Binary to a plain string, so the SecureString is encoded by hand.
"""
from __future__ import annotations

import base64

import pytest
import suds
import suds.client

from vlsi_helpers import NOT_AUTHENTICATED, verify_jwt


def new_client(url: str) -> suds.client.Client:
    client = suds.client.Client(f"{url}/view-vlsi/sdk?wsdl", cache=None, proxy={}, timeout=30)
    location = client.wsdl.services[0].ports[0].location
    assert location == f"{url}/view-vlsi/sdk", f"served WSDL's soap:address is {location!r}"
    return client


def mor(client, name: str):
    m = client.factory.create("ManagedObjectReference")
    m.value = name
    m._type = name  # suds names XML attributes with a leading underscore
    return m


def secure_string(client, password: str):
    s = client.factory.create("SecureString")
    s.utf8String = base64.b64encode(password.encode("utf-8")).decode("ascii")
    return s


def login(client, user="administrator", password="vmware", domain="VLSIM"):
    return client.service.AuthenticationManager_Login(
        mor(client, "AuthenticationManager"), user, secure_string(client, password), domain
    )


def as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


@pytest.fixture
def suds_client(vlsim_url):
    return new_client(vlsim_url)


def test_suds_login_get_public_keys_generate(vlsim_url, suds_client):
    c = suds_client
    assert login(c) is None

    infos = as_list(c.service.JwtToken_GetPublicKeys(mor(c, "JwtToken")))
    assert infos, "no JwtPublicKeyInfo returned"
    assert all(i.connectionServerName for i in infos)
    keys = [str(k) for i in infos for k in as_list(getattr(i, "keys", None))]
    assert keys and all("BEGIN PUBLIC KEY" in k for k in keys)

    spec = c.factory.create("JwtTokenGenerationSpec")
    spec.validityTime = 60
    info = c.service.JwtToken_Generate(mor(c, "JwtToken"), spec)
    _, claims = verify_jwt(str(info.token), keys)
    assert claims["exp"] - claims["iat"] == 3600
    assert info.expiryTime is not None

    # no spec at all -> default 30 minutes
    info = c.service.JwtToken_Generate(mor(c, "JwtToken"))
    _, claims = verify_jwt(str(info.token), keys)
    assert claims["exp"] - claims["iat"] == 1800


def test_suds_keeps_session_cookie(vlsim_url, suds_client):
    c = suds_client
    login(c)
    assert len(c.options.transport.cookiejar) >= 1, "no session cookie stored by suds"
    assert c.service.JwtToken_Generate(mor(c, "JwtToken")).token


def test_suds_get_public_keys_without_session(suds_client):
    infos = as_list(suds_client.service.JwtToken_GetPublicKeys(mor(suds_client, "JwtToken")))
    assert infos


def test_suds_generate_without_session_is_webfault(suds_client):
    with pytest.raises(suds.WebFault) as exc:
        suds_client.service.JwtToken_Generate(mor(suds_client, "JwtToken"))
    assert exc.value.fault.faultstring == NOT_AUTHENTICATED
    detail = exc.value.fault.detail
    assert hasattr(detail, "SecurityErrorFault"), f"fault detail: {detail}"


def test_suds_wrong_password_is_webfault(suds_client):
    with pytest.raises(suds.WebFault) as exc:
        login(suds_client, password="wrong")
    assert hasattr(exc.value.fault.detail, "InvalidCredentialsFault"), f"fault detail: {exc.value.fault.detail}"
