"""A real browser for the interop tests: headless Debian chromium driven by Selenium through Debian's
chromedriver (`apt-get install chromium chromium-driver`; `.ci/run` installs them). Selenium Manager is
never used (the driver path is given), so nothing is downloaded.

Without the browser the tests that ask for one skip, except in CI (CI=true) or with
VLSIM_REQUIRE_BROWSER=1, where they fail. Screenshots and other artifacts go to $VLSIM_ARTIFACTS, by default
target/test-artifacts/ (ignored by git), never elsewhere in the repository.
"""
from __future__ import annotations

import os
import pathlib

import pytest

from vlsi_helpers import REPO_ROOT

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMEDRIVER = pathlib.Path("/usr/bin/chromedriver")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--window-size=1280,900"]
WAIT = 15


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def require_browser() -> None:
    """Skip (or fail in CI / with VLSIM_REQUIRE_BROWSER=1) unless chromium and chromedriver are there."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not (p.is_file() and os.access(p, os.X_OK))]
    if not missing:
        return
    msg = f"the browser tests need Debian chromium and chromium-driver; missing {missing}"
    if _flag("CI") or _flag("VLSIM_REQUIRE_BROWSER"):
        pytest.fail(f"CI=true or VLSIM_REQUIRE_BROWSER=1 but {msg}", pytrace=False)
    pytest.skip(msg)


def artifacts_dir() -> pathlib.Path:
    """Where screenshots go: $VLSIM_ARTIFACTS, else target/test-artifacts (git ignores target/)."""
    raw = os.environ.get("VLSIM_ARTIFACTS")
    path = pathlib.Path(raw).resolve() if raw else REPO_ROOT / "target" / "test-artifacts"
    inside = REPO_ROOT.resolve() in (path, *path.parents)
    assert not inside or (REPO_ROOT / "target").resolve() in (path, *path.parents), \
        f"artifacts must not land in the tracked tree: {path}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_driver(profile: pathlib.Path, javascript: bool = True):
    """A headless chromium with its own profile directory; `javascript=False` switches scripts off."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={profile}")
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
