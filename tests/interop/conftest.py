"""Shared fixtures for the vlsim interop tests.

The server-backed tests start the real `vlsim` binary themselves:

    $VLSIM_BIN serve --listen 127.0.0.1:0 --data-dir <tmpdir>

VLSIM_BIN defaults to target/debug/vlsim (relative to the repo root). If the
binary is missing the server-backed tests are skipped, unless
VLSIM_REQUIRE_SERVER=1, in which case they fail.
"""
from __future__ import annotations

import os
import pathlib
import queue
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

from vlsi_helpers import REPO_ROOT, http_session

LISTEN_RE = re.compile(r"^vlsim listening on (http://127\.0\.0\.1:\d+)\s*$")
STARTUP_TIMEOUT = float(os.environ.get("VLSIM_STARTUP_TIMEOUT", "60"))
STOP_TIMEOUT = 30.0

# Variables of this test harness that must not leak into the server's own
# VLSIM_* configuration layer.
_HARNESS_VARS = {"VLSIM_BIN", "VLSIM_REQUIRE_SERVER", "VLSIM_STARTUP_TIMEOUT"}


def vlsim_bin() -> pathlib.Path:
    raw = os.environ.get("VLSIM_BIN", "target/debug/vlsim")
    p = pathlib.Path(raw)
    if not p.is_absolute():
        p = REPO_ROOT / p
    return p


def server_required() -> bool:
    return os.environ.get("VLSIM_REQUIRE_SERVER", "") not in ("", "0", "false", "no")


def require_binary() -> pathlib.Path:
    """Return the server binary, or skip (fail if VLSIM_REQUIRE_SERVER=1)."""
    b = vlsim_bin()
    if b.is_file() and os.access(b, os.X_OK):
        return b
    msg = (
        f"vlsim binary not found at {b} (build it with `cargo build`, or set VLSIM_BIN); "
        "set VLSIM_REQUIRE_SERVER=1 to make this a failure"
    )
    if server_required():
        pytest.fail(f"VLSIM_REQUIRE_SERVER=1 but {msg}", pytrace=False)
    pytest.skip(msg)


class Server:
    """A running `vlsim serve` process."""

    def __init__(self, proc: subprocess.Popen, url: str, log_path: pathlib.Path, data_dir: pathlib.Path):
        self.proc = proc
        self.url = url
        self.log_path = log_path
        self.data_dir = data_dir

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])

    def stop(self) -> int:
        """SIGTERM the server and return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"vlsim did not exit within {STOP_TIMEOUT}s of SIGTERM; log tail:\n{self.log_tail()}"
                )
        return self.proc.returncode

    def stop_and_check(self) -> None:
        rc = self.stop()
        assert rc == 0, f"vlsim exited with code {rc} after SIGTERM; log tail:\n{self.log_tail()}"


def start_server(data_dir, extra_args=()) -> Server:
    """Start `vlsim serve` on an OS-chosen port with the given data dir.

    Waits for the `vlsim listening on http://127.0.0.1:PORT` line on stdout.
    Skips (or fails with VLSIM_REQUIRE_SERVER=1) when the binary is missing;
    fails when it is present but does not come up.
    """
    binary = require_binary()
    data_dir = pathlib.Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.{int(time.time() * 1000)}.stderr.log"
    env = {k: v for k, v in os.environ.items() if k not in _HARNESS_VARS}
    cmd = [str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *extra_args]
    log = open(log_path, "wb")
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=str(REPO_ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    finally:
        log.close()

    lines: "queue.Queue[str | None]" = queue.Queue()

    def pump():
        # Read stdout until EOF so the child can never block on a full pipe.
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    threading.Thread(target=pump, name="vlsim-stdout", daemon=True).start()

    server = Server(proc, "", log_path, data_dir)
    try:
        first = lines.get(timeout=STARTUP_TIMEOUT)
    except queue.Empty:
        server.stop()
        pytest.fail(
            f"vlsim printed nothing on stdout within {STARTUP_TIMEOUT}s: {cmd}\nlog tail:\n{server.log_tail()}",
            pytrace=False,
        )
    if first is None:
        rc = proc.wait()
        pytest.fail(
            f"vlsim exited (code {rc}) before printing its listening line: {cmd}\nlog tail:\n{server.log_tail()}",
            pytrace=False,
        )
    m = LISTEN_RE.match(first.rstrip("\r\n"))
    if not m:
        server.stop()
        pytest.fail(
            f"unexpected first stdout line from vlsim: {first!r} "
            "(expected 'vlsim listening on http://127.0.0.1:PORT')",
            pytrace=False,
        )
    server.url = m.group(1)

    # The contract says the line is printed once connections are accepted; poll
    # the health endpoint briefly anyway so a slow first request doesn't flake.
    s = http_session()
    deadline = time.monotonic() + 10
    while True:
        try:
            s.get(f"{server.url}/_vlsim/health", timeout=2)
            break
        except requests.RequestException:
            if time.monotonic() > deadline or proc.poll() is not None:
                server.stop()
                pytest.fail(
                    f"vlsim at {server.url} does not answer HTTP; log tail:\n{server.log_tail()}",
                    pytrace=False,
                )
            time.sleep(0.1)
    return server


@pytest.fixture(scope="session")
def vlsim_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("vlsim") / "data")
    yield server
    server.stop_and_check()


@pytest.fixture(scope="session")
def vlsim_url(vlsim_server) -> str:
    return vlsim_server.url


@pytest.fixture
def http():
    s = http_session()
    yield s
    s.close()


# --- a real browser (headless Debian chromium + Selenium); see browser_helpers.py --------------


@pytest.fixture
def chrome(tmp_path):
    """A headless chromium (JavaScript on) with a fresh profile; skipped or failed as browser_helpers says."""
    from browser_helpers import make_driver

    driver = make_driver(tmp_path / "chrome-profile")
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def artifacts():
    """The directory for screenshots and other test artifacts (outside the tracked tree)."""
    from browser_helpers import artifacts_dir

    return artifacts_dir()
