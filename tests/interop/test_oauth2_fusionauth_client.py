"""The official python fusionauth-client 1.69.0 against vlsim's /oauth2/token:
exchange_o_auth_code_for_access_token and exchange_user_credentials_for_access_token.

What it relies on:
- exchange_o_auth_code_for_access_token has no code_verifier parameter, so the code is obtained WITHOUT PKCE
  (allowed: proofKeyForCodeExchangePolicy NotRequiredWhenUsingClientAuthentication) and exchanged as a
  confidential client (client_secret in the form body, clients.md §1).
- Login form posted with requests, as in oauth2_helpers.py; vlsim-second has the password grant disabled.
- fusionauth-client's ClientResponse mapping: 400 -> error_response is the parsed JSON,
  401 -> error_response is the raw requests.Response.
"""
from __future__ import annotations

import pytest
from fusionauth.fusionauth_client import FusionAuthClient

from oauth2_helpers import (ADMIN, ADMIN_ID, APP, APP2, APP2_SECRET, CALLBACK, CODE_ERROR, CODE_ERROR_REASON, SECRET,
                            USER_ID, login_for_code)
from vlsi_helpers import http_session

API_KEY = "vlsim-api-key"


@pytest.fixture(autouse=True)
def _direct_http(monkeypatch):
    """fusionauth-client calls requests.request(), which honours proxy variables; keep calls local."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
                "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def anonymous(vlsim_url) -> FusionAuthClient:
    return FusionAuthClient(None, vlsim_url)


def assert_token_response(body: dict, scopes: set[str]) -> None:
    assert body["token_type"] == "Bearer"
    assert 3500 <= body["expires_in"] <= 3600
    assert body["userId"] == ADMIN_ID
    assert set(body["scope"].split()) == scopes
    assert body["access_token"].count(".") == 2
    if "openid" in scopes:
        assert body["id_token"].count(".") == 2
    if "offline_access" in scopes:
        assert body["refresh_token"] and body["refresh_token_id"]


def test_exchange_o_auth_code_for_access_token(anonymous, vlsim_url):
    p = login_for_code(http_session(), vlsim_url, state="fa-code", scope="openid offline_access")
    assert p["state"] == "fa-code"
    r = anonymous.exchange_o_auth_code_for_access_token(p["code"], CALLBACK, APP, SECRET)
    assert r.status == 200, (r.status, r.error_response)
    body = r.success_response
    assert_token_response(body, {"openid", "offline_access"})

    # the OAuth access token is a FusionAuth JWT: validate API, refresh-token store
    jwt = anonymous.validate_jwt(body["access_token"]).success_response["jwt"]
    assert jwt["sub"] == ADMIN_ID and jwt["aud"] == APP and jwt["applicationId"] == APP
    assert jwt["roles"] == ["admin"] and jwt["sid"] == body["refresh_token_id"]
    assert jwt["iss"] == vlsim_url
    stored = FusionAuthClient(API_KEY, vlsim_url).retrieve_refresh_token_by_id(body["refresh_token_id"])
    assert stored.status == 200
    assert set(stored.success_response["refreshToken"]["metaData"]["scopes"]) == {"openid", "offline_access"}

    # the code is single use
    again = anonymous.exchange_o_auth_code_for_access_token(p["code"], CALLBACK, APP, SECRET)
    assert again.status == 400
    assert again.error_response["error"] == CODE_ERROR
    assert again.error_response["error_reason"] == CODE_ERROR_REASON

    # wrong secret: 401, the client hands back the raw requests.Response
    p = login_for_code(http_session(), vlsim_url)
    bad = anonymous.exchange_o_auth_code_for_access_token(p["code"], CALLBACK, APP, "wrong-secret")
    assert bad.status == 401
    assert bad.error_response.json()["error"] == "invalid_client"
    assert bad.error_response.json()["error_reason"] == "invalid_client_authentication"


def test_exchange_user_credentials_for_access_token(anonymous, vlsim_url):
    r = anonymous.exchange_user_credentials_for_access_token(ADMIN[0], ADMIN[1], APP, SECRET, "openid offline_access")
    assert r.status == 200, (r.status, r.error_response)
    body = r.success_response
    assert_token_response(body, {"openid", "offline_access"})

    # same refresh-token store and policy (Reusable) as /api/jwt/refresh
    refreshed = anonymous.exchange_refresh_token_for_access_token(body["refresh_token"], APP, SECRET)
    assert refreshed.status == 200, refreshed.error_response
    assert refreshed.success_response["refresh_token"] == body["refresh_token"]
    old_api = anonymous.exchange_refresh_token_for_jwt({"refreshToken": body["refresh_token"]})
    assert old_api.status == 200 and old_api.success_response["refreshTokenId"] == body["refresh_token_id"]

    introspected = anonymous.introspect_access_token(APP, body["access_token"])
    assert introspected.status == 200 and introspected.success_response["active"] is True

    # no scope: no refresh token, no id token
    plain = anonymous.exchange_user_credentials_for_access_token(ADMIN[0], ADMIN[1], APP, SECRET)
    assert plain.status == 200
    assert "refresh_token" not in plain.success_response and "id_token" not in plain.success_response

    # a user registered to vlsim only, by username = email
    user = anonymous.exchange_user_credentials_for_access_token("user@vlsim.test", "password", APP, SECRET)
    assert user.status == 200 and user.success_response["userId"] == USER_ID

    wrong = anonymous.exchange_user_credentials_for_access_token(ADMIN[0], "wrong", APP, SECRET)
    assert wrong.status == 400
    assert (wrong.error_response["error"], wrong.error_response["error_reason"]) == ("invalid_grant",
                                                                                     "invalid_user_credentials")
    # NotRequiredWhenUsingPKCE: the password grant needs client authentication
    public = anonymous.exchange_user_credentials_for_access_token(ADMIN[0], ADMIN[1], APP)
    assert public.status == 401
    assert public.error_response.json()["error_reason"] == "client_authentication_missing"
    # grant not enabled for vlsim-second
    disabled = anonymous.exchange_user_credentials_for_access_token(ADMIN[0], ADMIN[1], APP2, APP2_SECRET)
    assert disabled.status == 400
    assert (disabled.error_response["error"], disabled.error_response["error_reason"]) == ("unauthorized_client",
                                                                                           "grant_type_disabled")
