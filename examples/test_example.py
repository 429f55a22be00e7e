"""Example tests using the fixture in conftest.py: run with `pytest examples/`."""
import requests


def test_health(vlsim):
    assert requests.get(f"{vlsim.url}/_vlsim/health", timeout=10).json()["status"] == "ok"


def test_clock_moves(clean_vlsim):
    before = requests.get(f"{clean_vlsim.url}/_vlsim/clock", timeout=10).json()["epoch_seconds"]
    clean_vlsim.advance_clock(3600)
    after = requests.get(f"{clean_vlsim.url}/_vlsim/clock", timeout=10).json()["epoch_seconds"]
    assert after - before >= 3600
