"""Helpers shared by the OAuth2/OIDC interop tests. No fixtures here.

What they rely on (README "OAuth2 / OpenID Connect"):
- The hosted login page at GET /oauth2/authorize: one <form> (method POST) whose inputs include `loginId` and
  `password`, each with a <label for=...>, hidden inputs carrying the OAuth request and a CSRF token, and a
  submit button.
- Any loopback redirect URI is accepted for the `vlsim` application (RFC 8252 §7.3).
- The Default tenant's OAuth issuer is the origin the client used (`http://127.0.0.1:PORT`, no trailing slash).
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse

import lxml.html
import requests

DEFAULT_TENANT = "10000000-0000-4000-8000-000000000001"
OTHER_TENANT = "10000000-0000-4000-8000-000000000002"
APP = "20000000-0000-4000-8000-000000000001"            # "vlsim": client id = application id
APP2 = "20000000-0000-4000-8000-000000000002"           # "vlsim-second"
ADMIN_ID = "30000000-0000-4000-8000-000000000001"
USER_ID = "30000000-0000-4000-8000-000000000002"
SECRET = "vlsim-client-secret"
# vlsim-second: grants [authorization_code, refresh_token], clientAuthenticationPolicy Required.
APP2_SECRET = "vlsim-second-client-secret"
ADMIN = ("admin@vlsim.test", "password")
SCOPE = "openid offline_access email profile"
CALLBACK = "http://127.0.0.1:8765/callback"             # never listened on: redirects are not followed
INVALID_LOGIN_MESSAGE = "Invalid login credentials."    # FusionAuth theme key [InvalidLogin]
# FusionAuth (and vlsim) answer every failed code exchange with invalid_request/auth_code_not_found.
CODE_ERROR = "invalid_request"
CODE_ERROR_REASON = "auth_code_not_found"


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    """Return (code_verifier, code_challenge) per RFC 7636 §4.1-4.2."""
    verifier = secrets.token_urlsafe(48)[:64]
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(base: str, **params) -> str:
    query = {"response_type": "code", "client_id": APP, "redirect_uri": CALLBACK, "scope": SCOPE}
    query.update({k: v for k, v in params.items() if v is not None})
    return f"{base}/oauth2/authorize?" + urllib.parse.urlencode(query)


def login_form(resp: requests.Response) -> tuple[str, dict[str, str]]:
    """Parse the hosted login page: (absolute action URL, the form's current field values)."""
    assert resp.status_code == 200, f"login page: {resp.status_code} {resp.text[:300]}"
    assert resp.headers.get("Content-Type", "").startswith("text/html"), resp.headers.get("Content-Type")
    doc = lxml.html.fromstring(resp.text, base_url=resp.url)
    forms = [f for f in doc.forms if {"loginId", "password"} <= set(f.inputs.keys())]
    assert len(forms) == 1, f"expected one form with loginId and password, page: {resp.text[:500]}"
    form = forms[0]
    assert (form.method or "GET").upper() == "POST", form.method
    for name in ("loginId", "password"):
        el = form.inputs[name]
        el_id = el.get("id")
        assert el_id, f"input {name} has no id"
        assert doc.xpath(f'//label[@for="{el_id}"]'), f"no <label for={el_id!r}>"
    action = urllib.parse.urljoin(resp.url, form.action or resp.url)
    return action, dict(form.form_values())


def submit_login(browser: requests.Session, page: requests.Response, login_id: str, password: str) -> requests.Response:
    action, fields = login_form(page)
    fields.update({"loginId": login_id, "password": password})
    return browser.post(action, data=fields, allow_redirects=False, timeout=10)


def callback_params(resp: requests.Response, redirect_uri: str = CALLBACK) -> dict[str, str]:
    """The query parameters of a 302 to redirect_uri."""
    assert resp.status_code in (302, 303), f"expected a redirect, got {resp.status_code}: {resp.text[:300]}"
    location = resp.headers["Location"]
    sep = "&" if "?" in redirect_uri else "?"
    assert location.startswith(redirect_uri + sep), f"redirected to {location!r}, want {redirect_uri}{sep}..."
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def login_for_code(browser: requests.Session, base: str, login=ADMIN, **params) -> dict[str, str]:
    """Authorize, post the login form (unless the browser's SSO cookie skips it), return the callback
    parameters (code, state, iss, ...)."""
    page = browser.get(authorize_url(base, **params), allow_redirects=False, timeout=10)
    if page.status_code != 200:
        return callback_params(page, params.get("redirect_uri", CALLBACK))
    return callback_params(submit_login(browser, page, *login), params.get("redirect_uri", CALLBACK))


def token_request(http: requests.Session, base: str, data: dict, auth=None) -> requests.Response:
    return http.post(f"{base}/oauth2/token", data={k: v for k, v in data.items() if v is not None},
                     auth=auth, timeout=10)


def oauth_error(resp: requests.Response, status: int, error: str, reason: str | None = None) -> dict:
    assert resp.status_code == status, f"want {status}, got {resp.status_code}: {resp.text[:300]}"
    body = resp.json()
    assert body.get("error") == error, body
    if reason is not None:
        assert body.get("error_reason") == reason, body
    assert "Cache-Control" in resp.headers and "no-store" in resp.headers["Cache-Control"], resp.headers
    return body


def advance_clock(http: requests.Session, base: str, seconds: int) -> None:
    r = http.post(f"{base}/_vlsim/clock/advance", json={"seconds": seconds}, timeout=10)
    assert r.status_code == 200, r.text


def reset_clock(http: requests.Session, base: str) -> None:
    r = http.delete(f"{base}/_vlsim/clock", timeout=10)
    assert r.status_code in (200, 204), r.text
