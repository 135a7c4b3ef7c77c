"""The emulator as the conformance tests see it: its URL, its test credentials and its admin API.

The admin calls use only the standard library, so that what is under test (aiosfstream-ng,
aiocometd-ng, simple-salesforce) is the only third-party code between a test and the emulator.
"""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFORMANCE_DIR = HERE.parent.parent
# The emulator's long poll. Short, so that a connect the emulator holds costs a test seconds, not
# 110 s; tests/conformance/run passes the value it started the emulator with.
CONNECT_TIMEOUT_MS = int(os.environ.get("SFKB_CONF_CONNECT_TIMEOUT_MS", "2000"))


@dataclass(frozen=True)
class Credentials:
    """The connected app and user the emulator is started with (test-only values)."""

    static_token: str
    client_id: str
    client_secret: str
    username: str
    password: str
    refresh_token: str


def credentials_from_env() -> Credentials:
    """The values tests/conformance/run passes; the same defaults when pytest runs alone."""
    return Credentials(
        static_token=os.environ.get("SFKB_CONF_STATIC_TOKEN", "conformance-static-token"),
        client_id=os.environ.get("SFKB_CONF_CLIENT_ID", "conformance-app"),
        client_secret=os.environ.get("SFKB_CONF_CLIENT_SECRET", "conformance-secret"),
        username=os.environ.get("SFKB_CONF_USERNAME", "conformance@example.com"),
        password=os.environ.get("SFKB_CONF_PASSWORD", "conformance-password"),
        refresh_token=os.environ.get("SFKB_CONF_REFRESH_TOKEN", "conformance-refresh-token"),
    )


class AdminError(RuntimeError):
    pass


class Emulator:
    """A running sf-emulator, reached over HTTP. Started here only when `start` is used."""

    def __init__(self, url: str, credentials: Credentials, process: subprocess.Popen = None):
        self.url = url.rstrip("/")
        self.credentials = credentials
        self._process = process

    # --- lifetime (only used when pytest runs without tests/conformance/run) ---

    @classmethod
    def start(cls, binary: str, credentials: Credentials, connect_timeout_ms: int) -> "Emulator":
        args = [
            # A host name, not an IP: aiohttp's cookie jar (under aiocometd) ignores cookies from
            # IP-address hosts, and the session cookie must come back (as against a real org).
            binary, "--listen", "localhost:0",
            "--events", str(CONFORMANCE_DIR / "events.yaml"),
            "--static-token", credentials.static_token,
            "--client-id", credentials.client_id,
            "--client-secret", credentials.client_secret,
            "--username", credentials.username,
            "--password", credentials.password,
            "--refresh-token", credentials.refresh_token,
            "--connect-timeout-ms", str(connect_timeout_ms),
            "--exit-on-stdin-eof",
        ]
        # stdin stays a pipe held by this process: if pytest dies, the emulator sees EOF and exits.
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            proc.kill()
            proc.wait()
            raise RuntimeError(f"sf-emulator did not report its port (first line: {line!r})")
        return cls(line[len(prefix):], credentials, proc)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    # --- admin API ---

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raise AdminError(f"{method} {path} -> {err.code}: {err.read()!r}") from err

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset", {})

    def inject(self, channel: str, payload: dict = None, count: int = 1, **kind_members) -> tuple:
        """Returns (first_replay_id, last_replay_id). kind_members: the members a channel kind
        takes besides `payload` (/topic/: `sobject`, `type`; /data/: `change`)."""
        body = {"channel": channel, "count": count, **kind_members}
        if payload is not None:
            body["payload"] = payload
        r = self._call("POST", "/_emulator/inject", body)
        return r["first_replay_id"], r["last_replay_id"]

    def faults(self, **faults) -> dict:
        return self._call("POST", "/_emulator/faults", faults)

    def published(self, event: str) -> dict:
        return self._call("GET", "/_emulator/published?" + urllib.parse.urlencode({"event": event}))

    def stats(self) -> dict:
        return self._call("GET", "/_emulator/stats")

    def wait_for_published(self, event: str, count: int, timeout_s: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            p = self.published(event)
            if p["count"] >= count:
                return p
            if time.monotonic() > deadline:
                raise AssertionError(f"{event}: {p['count']} published, waited for {count}")
            time.sleep(0.02)  # polling interval of a condition with a deadline
