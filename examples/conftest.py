"""A pytest fixture that runs vlsim for your test session.

Copy this file into your test suite (or import the fixture). It starts the vlsim binary
(`VLSIM_BIN`, else `vlsim` on PATH) on 127.0.0.1 with an OS-chosen port and a fresh data
directory, waits for the `vlsim listening on URL` line, and stops it with SIGTERM.

    def test_public_keys(vlsim):
        r = requests.post(f"{vlsim.url}/_vlsim/reset")   # clean world per test
        ...
"""
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass

import pytest
import requests


@dataclass
class Vlsim:
    url: str
    data_dir: str
    process: subprocess.Popen

    def reset(self):
        requests.post(f"{self.url}/_vlsim/reset", timeout=10).raise_for_status()

    def advance_clock(self, seconds: int):
        requests.post(f"{self.url}/_vlsim/clock/advance", json={"seconds": seconds}, timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def vlsim():
    binary = os.environ.get("VLSIM_BIN") or shutil.which("vlsim")
    if not binary:
        pytest.skip("set VLSIM_BIN or put vlsim on PATH (cargo install --path .)")
    data_dir = tempfile.mkdtemp(prefix="vlsim-")
    process = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().strip()
    if not line.startswith("vlsim listening on "):
        process.kill()
        raise RuntimeError(f"vlsim did not start: {line!r}")
    server = Vlsim(url=line.removeprefix("vlsim listening on "), data_dir=data_dir, process=process)
    try:
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def clean_vlsim(vlsim):
    """The session's server, reset to the fixtures before the test."""
    vlsim.reset()
    return vlsim
