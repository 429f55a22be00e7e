"""The web dashboard at /_vlsim/ui in a real browser: headless Chromium (Debian's
`chromium` + `chromium-driver`) driven by Selenium, beside real clients (zeep,
fusionauth-client) calling the surfaces.

- a zeep JwtToken_Generate appears in the journal page, and its entry shows the SOAP
  envelope and the decoded token; with the Live box ticked a new call shows up without a
  reload;
- a fault rule added through the form makes the next zeep call get UnexpectedFault, and
  the rule's counter shows 1;
- moving the clock by an hour through the form makes the token inspector call the token
  expired;
- restoring a snapshot through the form brings back a refresh token revoked on the
  sessions page;
- with --admin-token the dashboard asks for the token once and keeps an HttpOnly,
  SameSite=Strict cookie.

Screenshots of every step go to target/test-artifacts/dashboard/ (or $VLSIM_ARTIFACTS).
With VLSIM_DOCS_SCREENSHOT=1 the journal page is also written to docs/dashboard-journal.png
(the README's picture): `VLSIM_DOCS_SCREENSHOT=1 .venv/bin/python -m pytest
tests/interop/test_dashboard_browser.py`. CI never sets it, so CI leaves the tree alone.

Without Chromium, chromedriver or selenium the tests skip, except in CI (CI=true), where
they fail: .ci/run installs them.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import zeep
import zeep.exceptions
from fusionauth.fusionauth_client import FusionAuthClient
from zeep.transports import Transport

from conftest import start_server
from vlsi_helpers import ADMIN, DOMAIN, MOR_AUTH, MOR_JWT, REPO_ROOT, check_fault_detail, http_session

API_KEY = "vlsim-api-key"
APP = "20000000-0000-4000-8000-000000000001"
ARTIFACTS = pathlib.Path(os.environ.get("VLSIM_ARTIFACTS", REPO_ROOT / "target" / "test-artifacts" / "dashboard"))
DOCS_SCREENSHOT = REPO_ROOT / "docs" / "dashboard-journal.png"
WAIT = 20


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(msg: str):
    if in_ci():
        pytest.fail(f"CI=true but {msg} (.ci/run installs chromium, chromium-driver and selenium)", pytrace=False)
    pytest.skip(msg)


def new_browser():
    try:
        from selenium import webdriver
    except ImportError:
        unavailable("selenium is not installed (pip install -r tests/interop/requirements.txt)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    if not chromium or not driver:
        unavailable("Chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-proxy-server", "--window-size=1280,900", "--hide-scrollbars",
                "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    # An explicit driver path: Selenium Manager never downloads anything.
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver), options=options)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("dashboard") / "data")
    yield s
    s.stop_and_check()


@pytest.fixture(scope="module")
def browser():
    b = new_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield b
    b.quit()


def shot(browser, name: str) -> None:
    """Keeps a screenshot of the whole page as a test artifact."""
    from selenium.webdriver.common.by import By

    height = browser.find_element(By.TAG_NAME, "body").size["height"]
    browser.set_window_size(1280, min(max(height + 40, 700), 4000))
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    browser.set_window_size(1280, 900)


def wait_for(browser, css: str, text: str | None = None):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    if text is None:
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return browser.find_element(By.CSS_SELECTOR, css)


def zeep_client(url: str) -> zeep.Client:
    client = zeep.Client(f"{url}/view-vlsi/sdk?wsdl", transport=Transport(session=http_session()))
    user, password = ADMIN
    client.service.AuthenticationManager_Login(
        _this=MOR_AUTH, username=user, password={"utf8String": password.encode()}, domain=DOMAIN
    )
    return client


def select(browser, css: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.CSS_SELECTOR, css)).select_by_value(value)


def fill(browser, css: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.CSS_SELECTOR, css)
    field.clear()
    field.send_keys(text)


def click(browser, css: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, css).click()


def inspect(browser, url: str, token: str) -> str:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/_vlsim/ui/inspect")
    # Pasting a 700-character token key by key is slow; set it as a paste would.
    area = browser.find_element(By.ID, "token")
    browser.execute_script("arguments[0].value = arguments[1];", area, token)
    click(browser, "form[action='/_vlsim/ui/inspect'] button[type=submit]")
    return wait_for(browser, "#token-status").text


def test_generate_shows_in_the_journal_with_envelope_and_decoded_token(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    info = zeep_client(server.url).service.JwtToken_Generate(_this=MOR_JWT)
    browser.get(f"{server.url}/_vlsim/ui/journal")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Journal"
    # Keyboard first: Tab lands on the skip link.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Skip to content"
    rows = browser.find_elements(By.CSS_SELECTOR, "#journal tbody tr")
    generate = [r for r in rows if "JwtToken_Generate" in r.text]
    assert generate, [r.text for r in rows]
    assert "VLSIM\\administrator" in generate[0].text and "200" in generate[0].text
    shot(browser, "01-journal")
    generate[0].find_element(By.LINK_TEXT, "JwtToken_Generate").click()
    response = wait_for(browser, "#response-body", "JwtToken_GenerateResponse").text
    assert "soapenv:Envelope" in response and "<token>[redacted]</token>" in response
    request = browser.find_element(By.ID, "request-body").text
    assert ":JwtToken_Generate" in request and "soap-env:Envelope" in request  # zeep's prefixes
    decoded = browser.find_element(By.CSS_SELECTOR, "section.token").text
    assert "JWT in the response body" in decoded
    assert '"username": "administrator"' in decoded and '"alg": "RS256"' in decoded
    assert "[signature redacted]" in decoded
    assert info.token.split(".")[2] not in browser.page_source, "the signature never reaches the page"
    shot(browser, "02-journal-entry")


def test_live_box_shows_new_calls_without_a_reload(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server.url}/_vlsim/ui/journal")
    box = browser.find_element(By.ID, "live")
    assert box.is_displayed(), "the script shows the Live box"
    marker = browser.execute_script("window.vlsimNotReloaded = true; return 1;")
    assert marker == 1
    box.click()
    s = http_session()
    s.post(f"{server.url}/api/login", headers={"Authorization": API_KEY},
           json={"loginId": "nobody@vlsim.test", "password": "nope", "applicationId": APP})

    def new_row(driver):
        rows = driver.find_elements(By.CSS_SELECTOR, "#journal tbody tr")
        return rows and "POST /api/login" in rows[0].text and "404" in rows[0].text

    WebDriverWait(browser, WAIT).until(new_row)
    assert browser.execute_script("return window.vlsimNotReloaded === true"), "no reload"
    box = browser.find_element(By.ID, "live")
    box.click()
    assert not box.is_selected()


def test_fault_rule_form_fails_the_next_zeep_call_and_counts_it(server, browser):
    from selenium.webdriver.common.by import By

    client = zeep_client(server.url)
    browser.get(f"{server.url}/_vlsim/ui/controls")
    select(browser, "#fr-surface", "vlsi")
    select(browser, "#fr-operation", "JwtToken_Generate")
    select(browser, "#fr-kind", "typed")
    select(browser, "#fr-fault", "UnexpectedFault")
    fill(browser, "#fr-message", "disk on fire")
    click(browser, "#fault-form button[type=submit]")
    wait_for(browser, "p.notice", "Fault rule added.")
    rule = browser.find_element(By.CSS_SELECTOR, "#fault-rules tbody tr[data-rule]")
    assert rule.find_element(By.CSS_SELECTOR, "td.fired").text == "0"
    with pytest.raises(zeep.exceptions.Fault) as exc:
        client.service.JwtToken_Generate(_this=MOR_JWT)
    assert exc.value.message == "disk on fire"
    check_fault_detail(exc.value.detail, "UnexpectedFault")
    browser.refresh()
    rule = browser.find_element(By.CSS_SELECTOR, "#fault-rules tbody tr[data-rule]")
    assert rule.find_element(By.CSS_SELECTOR, "td.fired").text == "1"
    assert rule.find_element(By.CSS_SELECTOR, "td.matched").text == "1"
    shot(browser, "03-controls-fault-fired")
    # The journal names the rule that answered.
    browser.get(f"{server.url}/_vlsim/ui/journal?status=5xx")
    row = browser.find_element(By.CSS_SELECTOR, "#journal tbody tr")
    assert "JwtToken_Generate" in row.text and "500" in row.text and "rule" in row.text
    browser.get(f"{server.url}/_vlsim/ui/controls")
    click(browser, "#fault-rules tbody tr[data-rule] button.danger")
    wait_for(browser, "p.notice", "Fault rule deleted.")
    assert client.service.JwtToken_Generate(_this=MOR_JWT).token


def test_moving_the_clock_an_hour_makes_the_inspector_call_the_token_expired(server, browser):
    from selenium.webdriver.common.by import By

    token = zeep_client(server.url).service.JwtToken_Generate(_this=MOR_JWT).token
    status = inspect(browser, server.url, token)
    assert status.startswith("valid"), status
    signature = browser.find_element(By.ID, "token-signature").text
    assert "verified by vlsim key 40000000-0000-4000-8000-000000000001" in signature
    shot(browser, "04-inspector-valid")
    browser.get(f"{server.url}/_vlsim/ui/controls")
    fill(browser, "#clk-seconds", "3600")
    click(browser, "form[action='/_vlsim/ui/clock/advance'] button")
    wait_for(browser, "p.notice", "Clock moved.")
    assert "ahead of real time" in browser.find_element(By.ID, "clock-mode").text
    status = inspect(browser, server.url, token)
    assert status.startswith("expired"), status
    assert "verified" in browser.find_element(By.ID, "token-signature").text
    shot(browser, "05-inspector-expired")
    browser.get(f"{server.url}/_vlsim/ui/controls")
    click(browser, "form[action='/_vlsim/ui/clock/real'] button")
    wait_for(browser, "p.notice", "Clock back to real time.")
    assert browser.find_element(By.ID, "clock-mode").text == "real time"


def test_restoring_a_snapshot_brings_back_a_revoked_refresh_token(server, browser, monkeypatch):
    from selenium.webdriver.common.by import By

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    client = FusionAuthClient(API_KEY, server.url)
    login = client.login({"loginId": "user@vlsim.test", "password": "password", "applicationId": APP})
    assert login.status == 200, login.error_response
    refresh = login.success_response["refreshToken"]
    token_id = login.success_response["refreshTokenId"]
    anonymous = FusionAuthClient(None, server.url)
    assert anonymous.exchange_refresh_token_for_jwt({"refreshToken": refresh}).status == 200

    browser.get(f"{server.url}/_vlsim/ui/controls")
    fill(browser, "#snap-name", "before-revoke")
    click(browser, "form[action='/_vlsim/ui/snapshots'] button")
    wait_for(browser, "p.notice", "Snapshot saved.")

    browser.get(f"{server.url}/_vlsim/ui/sessions")
    table = browser.find_element(By.CSS_SELECTOR, "table[data-provider='fusionauth-refresh-tokens']")
    row = [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if token_id in r.text]
    assert row and "user@vlsim.test" in row[0].text
    shot(browser, "06-sessions")
    row[0].find_element(By.CSS_SELECTOR, "button.danger").click()
    wait_for(browser, "p.notice", "Revoked.")
    assert token_id not in browser.find_element(By.CSS_SELECTOR, "table[data-provider='fusionauth-refresh-tokens']").text
    assert anonymous.exchange_refresh_token_for_jwt({"refreshToken": refresh}).status != 200

    browser.get(f"{server.url}/_vlsim/ui/controls")
    click(browser, "button[aria-label='Restore before-revoke']")
    wait_for(browser, "p.notice", "Snapshot restored")
    shot(browser, "07-snapshot-restored")
    assert anonymous.exchange_refresh_token_for_jwt({"refreshToken": refresh}).status == 200
    browser.get(f"{server.url}/_vlsim/ui/sessions")
    assert token_id in browser.find_element(By.CSS_SELECTOR, "table[data-provider='fusionauth-refresh-tokens']").text


def test_every_page_renders_and_the_journal_for_the_readme(server, browser):
    """A few calls of each surface, then every page; the journal page is the README's picture."""
    from selenium.webdriver.common.by import By

    s = http_session()
    s.post(f"{server.url}/api/login", headers={"Authorization": API_KEY},
           json={"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP})
    s.post(f"{server.url}/api/session", auth=("administrator@vsphere.local", "VMware1!"))
    s.get(f"{server.url}/api/jwt/validate", headers={"Authorization": "Bearer not-a-jwt"})
    zeep_client(server.url).service.JwtToken_Generate(_this=MOR_JWT, spec={"validityTime": 60})
    for path, title in [("", "Overview"), ("/events", "Events"), ("/sessions", "Sessions and tokens"),
                        ("/inspect", "Token inspector"), ("/controls", "Controls"), ("/journal", "Journal")]:
        browser.get(f"{server.url}/_vlsim/ui{path}")
        assert browser.find_element(By.TAG_NAME, "h1").text == title
        shot(browser, f"page-{title.lower().replace(' ', '-')}")
    browser.get(f"{server.url}/_vlsim/ui/events")
    links = browser.find_elements(By.CSS_SELECTOR, "#events tbody a[href^='/_vlsim/ui/journal/']")
    assert links, "events link to the journal entries that caused them"
    links[0].click()
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Journal entry")
    # A phone-sized window: the same page, nothing cut off sideways but the tables' own scroll.
    browser.set_window_size(390, 844)
    browser.get(f"{server.url}/_vlsim/ui/journal")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400
    browser.save_screenshot(str(ARTIFACTS / "page-journal-phone.png"))
    browser.set_window_size(1280, 900)
    # One call answered by a fault rule, so the picture shows one.
    rule = s.post(f"{server.url}/_vlsim/faults", json={
        "surface": "vlsi", "operation": "JwtToken_Generate", "max_count": 1,
        "action": {"kind": "typed", "fault": "UnexpectedFault", "message": "disk on fire"}})
    assert rule.status_code == 201, rule.text
    with pytest.raises(zeep.exceptions.Fault):
        zeep_client(server.url).service.JwtToken_Generate(_this=MOR_JWT)
    browser.get(f"{server.url}/_vlsim/ui/journal?limit=50")
    if os.environ.get("VLSIM_DOCS_SCREENSHOT", "") not in ("", "0"):
        browser.set_window_size(1280, 760)
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.save_screenshot(str(DOCS_SCREENSHOT))
        browser.set_window_size(1280, 900)


def test_the_overview_snippets_run_as_pasted(server, browser):
    """Each Python snippet on the overview, copied from the page as a person would, runs."""
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/_vlsim/ui")
    snippets = {}
    for details in browser.find_elements(By.CSS_SELECTOR, "details"):
        label = details.find_element(By.TAG_NAME, "summary").text
        if label.startswith("Python"):
            snippets[label] = details.find_element(By.CSS_SELECTOR, "pre code").text
    assert set(snippets) == {
        "Python, zeep",
        "Python, omnissa-horizon",
        "Python, fusionauth-client",
        "Python, vSphere Automation SDK",
    }
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    for label, code in snippets.items():
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
        assert run.returncode == 0, f"{label}:\n{code}\n{run.stderr}"
        assert run.stdout.strip(), label


def test_admin_token_asks_once_and_keeps_an_http_only_cookie(tmp_path, browser):
    from selenium.webdriver.common.by import By

    guarded = start_server(tmp_path / "data", extra_args=["--admin-token", "s3cret"])
    try:
        browser.get(f"{guarded.url}/_vlsim/ui/journal")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Sign in"
        fill(browser, "#token", "wrong")
        click(browser, "form[action='/_vlsim/ui/login'] button")
        wait_for(browser, "p.notice", "not the admin token")
        fill(browser, "#token", "s3cret")
        click(browser, "form[action='/_vlsim/ui/login'] button")
        wait_for(browser, "h1", "Journal")
        cookie = browser.get_cookie("vlsim_ui")
        assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/_vlsim/ui"
        assert "s3cret" not in cookie["value"]
        assert browser.execute_script("return document.cookie") == "", "scripts cannot read it"
        shot(browser, "08-signed-in")
        click(browser, "form.logout button")
        wait_for(browser, "h1", "Sign in")
    finally:
        browser.delete_all_cookies()
        guarded.stop_and_check()
