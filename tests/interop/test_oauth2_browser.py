"""A real browser on vlsim's hosted login page: headless Debian chromium driven by Selenium.

Opens the authorize URL, fills the form (a wrong password first: the message must show), lands on a tiny local
callback server on 127.0.0.1:0, and exchanges the code (a public client with PKCE S256); then the SSO cookie
skips the form. A second test does the same with JavaScript switched off. Screenshots of the login page go to
the artifacts directory (browser_helpers.py), never into the tracked tree.
"""
from __future__ import annotations

import queue
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from browser_helpers import WAIT, make_driver
from oauth2_helpers import ADMIN, ADMIN_ID, APP, INVALID_LOGIN_MESSAGE, authorize_url, pkce_pair, token_request
from vlsi_helpers import http_session


class CallbackServer:
    """The relying party's redirect target: records each query it receives, answers a small HTML page."""

    def __init__(self):
        self.hits: "queue.Queue[dict[str, str]]" = queue.Queue()
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                if parts.path == "/callback":
                    hits.put(dict(urllib.parse.parse_qsl(parts.query)))
                body = b"<!doctype html><title>vlsim test callback</title><p id=done>callback received</p>"
                self.send_response(200 if parts.path == "/callback" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, name="oauth-callback", daemon=True)
        self.thread.start()

    def next_hit(self, timeout: float = WAIT) -> dict[str, str]:
        return self.hits.get(timeout=timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback():
    cb = CallbackServer()
    yield cb
    cb.close()


def fill_and_submit(driver, login_id: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    for name, value in (("loginId", login_id), ("password", password)):
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()


def wait_for_form(driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.NAME, "loginId")))
    for name in ("loginId", "password"):
        el_id = driver.find_element(By.NAME, name).get_attribute("id")
        assert el_id, f"{name} has no id"
        label = driver.find_element(By.CSS_SELECTOR, f'label[for="{el_id}"]')
        assert label.text.strip(), f"the label for {name} is empty"


def exchange(vlsim_url: str, code: str, verifier: str, redirect_uri: str) -> dict:
    r = token_request(http_session(), vlsim_url, {"grant_type": "authorization_code", "code": code,
                                                  "redirect_uri": redirect_uri, "client_id": APP,
                                                  "code_verifier": verifier})
    assert r.status_code == 200, r.text
    return r.json()


def test_browser_login_wrong_password_then_code_exchange(vlsim_url, chrome, callback, artifacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    verifier, challenge = pkce_pair()
    url = authorize_url(vlsim_url, redirect_uri=callback.url, state="browser-1", nonce="n-browser-1",
                        code_challenge=challenge, code_challenge_method="S256")
    chrome.get(url)
    wait_for_form(chrome)
    assert chrome.title == "Sign in"
    assert chrome.save_screenshot(str(artifacts / "oauth2-login.png"))

    fill_and_submit(chrome, ADMIN[0], "definitely-wrong")
    WebDriverWait(chrome, WAIT).until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), INVALID_LOGIN_MESSAGE))
    assert chrome.save_screenshot(str(artifacts / "oauth2-login-wrong-password.png"))
    assert callback.hits.empty()

    wait_for_form(chrome)
    fill_and_submit(chrome, *ADMIN)
    hit = callback.next_hit()
    assert hit["state"] == "browser-1" and hit["code"], hit
    assert hit.get("iss") == vlsim_url
    WebDriverWait(chrome, WAIT).until(EC.url_contains(callback.url))

    token = exchange(vlsim_url, hit["code"], verifier, callback.url)
    assert token["userId"] == ADMIN_ID and token["id_token"] and token["refresh_token"]

    # The SSO cookie: a second authorize in the same browser goes straight back to the callback.
    verifier2, challenge2 = pkce_pair()
    chrome.get(authorize_url(vlsim_url, redirect_uri=callback.url, state="browser-2",
                             code_challenge=challenge2, code_challenge_method="S256"))
    hit2 = callback.next_hit()
    assert hit2["state"] == "browser-2"
    assert exchange(vlsim_url, hit2["code"], verifier2, callback.url)["userId"] == ADMIN_ID

    for png in ("oauth2-login.png", "oauth2-login-wrong-password.png"):
        assert (artifacts / png).stat().st_size > 1000, png


def test_login_form_without_javascript(vlsim_url, callback, tmp_path):
    driver = make_driver(tmp_path / "chrome-nojs", javascript=False)
    try:
        verifier, challenge = pkce_pair()
        driver.get(authorize_url(vlsim_url, redirect_uri=callback.url, state="nojs",
                                 code_challenge=challenge, code_challenge_method="S256"))
        wait_for_form(driver)
        fill_and_submit(driver, *ADMIN)
        hit = callback.next_hit()
        assert hit["state"] == "nojs"
        assert exchange(vlsim_url, hit["code"], verifier, callback.url)["userId"] == ADMIN_ID
    finally:
        driver.quit()
