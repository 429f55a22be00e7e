"""authlib 1.9.10 as a strict OIDC relying party against vlsim's /oauth2/* surface.

What it relies on:
- Discovery at /.well-known/openid-configuration (Default tenant) has issuer == the URL the client used
  (http://127.0.0.1:PORT, no trailing slash), lists only what is served, and passes authlib's
  OpenIDProviderMetadata.validate().
- Hosted login form as described in oauth2_helpers.py; the test posts it with requests (a "browser" session
  that keeps the SSO cookie); redirects are not followed.
- vlsim app policies: clientAuthenticationPolicy NotRequiredWhenUsingPKCE,
  proofKeyForCodeExchangePolicy NotRequiredWhenUsingClientAuthentication, grants code/refresh/password.
- Tokens minted by /oauth2/token carry iss = the discovery issuer, aud = client id, and validate at
  /api/jwt/validate. Times are compared with the real clock: this module never moves vlsim's clock.
"""
from __future__ import annotations

import urllib.parse

import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url

from oauth2_helpers import ADMIN, ADMIN_ID, APP, CALLBACK, DEFAULT_TENANT, SCOPE, SECRET, callback_params, submit_login
from vlsi_helpers import http_session


class _NoFramework:
    """authlib's apps call framework.update_token() after a refresh; nothing to store here."""

    def update_token(self, token, refresh_token=None, access_token=None):
        pass


class OIDCApp(OAuth2Mixin, OpenIDMixin, BaseApp):
    """The composition authlib itself uses for FlaskOAuth2App/DjangoOAuth2App, without a web framework."""

    client_cls = OAuth2Session


def make_app(vlsim_url: str, client_secret: str | None = SECRET, auth_method: str | None = None) -> OIDCApp:
    client_kwargs = {"scope": SCOPE, "code_challenge_method": "S256", "trust_env": False}
    if auth_method:
        client_kwargs["token_endpoint_auth_method"] = auth_method
    return OIDCApp(framework=_NoFramework(), name="vlsim", client_id=APP, client_secret=client_secret,
                   server_metadata_url=f"{vlsim_url}/.well-known/openid-configuration", client_kwargs=client_kwargs)


def browser_login(app: OIDCApp, **extra) -> tuple[dict, dict]:
    """Run the front-channel part: authorize URL from authlib, login form posted by requests.
    Returns (authlib's state data: url/state/code_verifier/nonce, callback parameters)."""
    rv = app.create_authorization_url(redirect_uri=CALLBACK, **extra)
    browser = http_session()
    page = browser.get(rv["url"], allow_redirects=False, timeout=10)
    params = callback_params(submit_login(browser, page, *ADMIN))
    return rv, params


def code_flow(app: OIDCApp) -> tuple[dict, dict, dict]:
    rv, params = browser_login(app)
    assert params["state"] == rv["state"]
    token = app.fetch_access_token(redirect_uri=CALLBACK, code=params["code"], code_verifier=rv["code_verifier"])
    return rv, params, token


def test_discovery_is_strict_oidc(vlsim_url):
    app = make_app(vlsim_url)
    meta = app.load_server_metadata()
    # the rule openid-client 6 applies: issuer == the URL discovery started from
    assert meta["issuer"] == vlsim_url, meta["issuer"]
    assert urllib.parse.urlsplit(meta["issuer"]).geturl() == vlsim_url
    assert get_well_known_url(meta["issuer"], external=True) == f"{vlsim_url}/.well-known/openid-configuration"
    OpenIDProviderMetadata({k: v for k, v in meta.items() if not k.startswith("_")}).validate()
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint",
                "introspection_endpoint"):
        assert meta[key].startswith(vlsim_url + "/"), (key, meta[key])
    # only what is served
    assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token", "password"}
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["response_modes_supported"]) == {"query", "form_post"}
    assert set(meta["code_challenge_methods_supported"]) == {"S256", "plain"}
    assert {"client_secret_basic", "client_secret_post", "none"} == set(meta["token_endpoint_auth_methods_supported"])
    assert "device_authorization_endpoint" not in meta
    assert {"openid", "offline_access"} <= set(meta["scopes_supported"])
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    # the same document per tenant, in FusionAuth's suffix form and its 1.46+ prefix form
    http = http_session()
    for path in (f"/.well-known/openid-configuration/{DEFAULT_TENANT}", f"/{DEFAULT_TENANT}/.well-known/openid-configuration"):
        other = http.get(vlsim_url + path, timeout=10)
        assert other.status_code == 200, (path, other.status_code)
        assert other.json()["issuer"] == vlsim_url, path


def test_code_pkce_id_token_userinfo_introspect_refresh(vlsim_url):
    app = make_app(vlsim_url)
    meta = app.load_server_metadata()
    rv, params, token = code_flow(app)
    assert params.get("iss") == meta["issuer"], params          # RFC 9207, as FusionAuth 1.69 sends it
    assert token["token_type"] == "Bearer"
    assert 3500 <= int(token["expires_in"]) <= 3600
    assert set(token["scope"].split()) == set(SCOPE.split())
    assert token["userId"] == ADMIN_ID
    assert token.get("refresh_token") and token.get("refresh_token_id")

    # id_token: signature (JWKS by kid), alg from discovery, iss, aud/azp, nonce, at_hash, exp/iat
    claims = app.parse_id_token(token, nonce=rv["nonce"])
    assert claims["iss"] == meta["issuer"]
    assert claims["aud"] == APP
    assert claims["sub"] == ADMIN_ID
    assert claims["nonce"] == rv["nonce"]
    assert claims["at_hash"]                               # verified by parse_id_token
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"]
    assert "roles" not in claims and "applicationId" not in claims   # FusionAuth >= 1.24 id tokens
    with pytest.raises(Exception):
        app.parse_id_token(token, nonce="not-the-nonce")

    info = app.userinfo(token=token)
    assert info["sub"] == ADMIN_ID
    assert info["email"] == "admin@vlsim.test"

    session = OAuth2Session(client_id=APP, client_secret=SECRET, token=token, trust_env=False)
    active = session.introspect_token(meta["introspection_endpoint"], token=token["access_token"],
                                      token_type_hint="access_token")
    assert active.status_code == 200, active.text
    body = active.json()
    assert body["active"] is True
    assert body["sub"] == ADMIN_ID and body["aud"] == APP and body["iss"] == meta["issuer"]
    assert body["tid"] == DEFAULT_TENANT and body["applicationId"] == APP and body["roles"] == ["admin"]
    assert set(body["scope"].split()) == set(SCOPE.split())
    dead = session.introspect_token(meta["introspection_endpoint"], token="not-a-token")
    assert dead.status_code == 200 and dead.json() == {"active": False}

    # refresh with the same refresh-token store as /api/jwt/refresh (Default tenant: Reusable)
    refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] == token["refresh_token"]
    again = app.parse_id_token(dict(refreshed), nonce=None)
    assert again["sub"] == ADMIN_ID and again["iss"] == meta["issuer"]

    # one core: the OAuth access token validates on the FusionAuth JWT API
    http = http_session()
    v = http.get(f"{vlsim_url}/api/jwt/validate", headers={"Authorization": f"Bearer {refreshed['access_token']}"},
                 timeout=10)
    assert v.status_code == 200, v.status_code
    jwt_claims = v.json()["jwt"]
    assert jwt_claims["iss"] == meta["issuer"] and jwt_claims["aud"] == APP and jwt_claims["roles"] == ["admin"]
    assert jwt_claims["authenticationType"] == "REFRESH_TOKEN"


def test_public_client_pkce_without_secret(vlsim_url):
    app = make_app(vlsim_url, client_secret=None, auth_method="none")
    rv, params, token = code_flow(app)
    assert app.parse_id_token(token, nonce=rv["nonce"])["sub"] == ADMIN_ID
    # FusionAuth NotRequiredWhenUsingPKCE: the refresh grant still needs client authentication
    public = OAuth2Session(client_id=APP, token_endpoint_auth_method="none", token=token, trust_env=False)
    with pytest.raises(OAuthError) as err:
        public.refresh_token(app.load_server_metadata()["token_endpoint"], refresh_token=token["refresh_token"])
    assert err.value.error == "invalid_client"


def test_sso_cookie_skips_the_form_and_prompt_none(vlsim_url):
    app = make_app(vlsim_url)
    browser = http_session()
    first = app.create_authorization_url(redirect_uri=CALLBACK)
    page = browser.get(first["url"], allow_redirects=False, timeout=10)
    callback_params(submit_login(browser, page, *ADMIN))
    # the SSO cookie alone: straight back with a code, also for prompt=none
    for extra in ({}, {"prompt": "none"}):
        again = app.create_authorization_url(redirect_uri=CALLBACK, **extra)
        params = callback_params(browser.get(again["url"], allow_redirects=False, timeout=10))
        assert params["code"] and params["state"] == again["state"]
        token = app.fetch_access_token(redirect_uri=CALLBACK, code=params["code"], code_verifier=again["code_verifier"])
        assert app.parse_id_token(token, nonce=again["nonce"])["sub"] == ADMIN_ID
    # prompt=login shows the form despite the session
    forced = app.create_authorization_url(redirect_uri=CALLBACK, prompt="login")
    assert browser.get(forced["url"], allow_redirects=False, timeout=10).status_code == 200
    # a fresh browser with prompt=none: login_required, on the redirect
    cold = app.create_authorization_url(redirect_uri=CALLBACK, prompt="none")
    params = callback_params(http_session().get(cold["url"], allow_redirects=False, timeout=10))
    assert params["error"] == "login_required"
    assert params["error_reason"] == "authentication_required"
    assert params["state"] == cold["state"]
    assert params["iss"] == app.load_server_metadata()["issuer"]
    assert "code" not in params


def test_password_grant_through_authlib(vlsim_url):
    app = make_app(vlsim_url)
    meta = app.load_server_metadata()
    session = OAuth2Session(client_id=APP, client_secret=SECRET, scope="openid offline_access", trust_env=False)
    token = session.fetch_token(meta["token_endpoint"], username=ADMIN[0], password=ADMIN[1])
    assert token["userId"] == ADMIN_ID and token["refresh_token"]
    claims = app.parse_id_token(token, nonce=None)
    assert claims["aud"] == APP and claims["iss"] == meta["issuer"]
    with pytest.raises(OAuthError) as err:
        session.fetch_token(meta["token_endpoint"], username=ADMIN[0], password="wrong")
    assert err.value.error == "invalid_grant"
