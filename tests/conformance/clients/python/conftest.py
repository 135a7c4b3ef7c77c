"""Fixtures shared by the conformance tests.

tests/conformance/run starts one emulator and passes its URL in SFKB_CONF_EMULATOR_URL. Run alone,
pytest starts its own from SF_EMULATOR_BINARY (or build/tests/emulator/sf-emulator).
Each test starts from a reset emulator: no events, sessions, published records or faults.
"""

import os
from pathlib import Path

import pytest

from emulator import CONFORMANCE_DIR, CONNECT_TIMEOUT_MS, Emulator, credentials_from_env
from tls_front import TlsFront


@pytest.fixture(scope="session")
def emulator():
    creds = credentials_from_env()
    url = os.environ.get("SFKB_CONF_EMULATOR_URL")
    if url:
        yield Emulator(url, creds)
        return
    binary = os.environ.get("SF_EMULATOR_BINARY") or str(
        CONFORMANCE_DIR.parent.parent / "build" / "tests" / "emulator" / "sf-emulator")
    if not Path(binary).is_file():
        pytest.fail(f"no emulator: set SFKB_CONF_EMULATOR_URL or SF_EMULATOR_BINARY ({binary})")
    emu = Emulator.start(binary, creds, connect_timeout_ms=CONNECT_TIMEOUT_MS)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(emulator):
    emulator.reset()
    yield emulator
    # Leave no fault behind for whatever runs next against the same emulator.
    emulator.reset()


@pytest.fixture(scope="session")
def tls_front(emulator, tmp_path_factory):
    """An HTTPS front for the emulator (which speaks plain HTTP).

    simple-salesforce builds every URL as https://<instance>/..., so it gets a TLS endpoint with a
    test CA that its requests session verifies: verification stays on, the library stays unpatched.
    """
    front = TlsFront(emulator.url, tmp_path_factory.mktemp("tls"))
    front.start()
    try:
        yield front
    finally:
        front.stop()
