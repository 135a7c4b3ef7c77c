"""aiosfstream-ng (on aiocometd-ng) against the emulator's OAuth and CometD endpoints.

The client is used as its documentation says; the only thing adapted is where its authenticator
sends the password grant (the library hard-codes login.salesforce.com as a property, which a
subclass may override).
"""

import asyncio
import re

import pytest
from aiosfstream_ng import (Client, PasswordAuthenticator, RefreshTokenAuthenticator, ReplayMarker,
                            ReplayOption)
from aiosfstream_ng.exceptions import AuthenticationError, ServerError

from emulator import CONNECT_TIMEOUT_MS

EVENT = "/event/Low_Ink__e"
TIMEOUT_S = 15.0
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
INVALID_REPLAY = ("400::The replayId {{{}}} you provided was invalid.  Please provide a valid ID, "
                  "-2 to replay all events, or -1 to replay only new events.")


class EmulatorPasswordAuthenticator(PasswordAuthenticator):
    """The library's username-password flow, sent to the emulator's token endpoint."""

    def __init__(self, token_url: str, **kwargs):
        super().__init__(**kwargs)
        self._emulator_token_url = token_url

    @property
    def _token_url(self) -> str:
        return self._emulator_token_url


class EmulatorRefreshTokenAuthenticator(RefreshTokenAuthenticator):
    """The library's refresh-token flow, sent to the emulator's token endpoint."""

    def __init__(self, token_url: str, **kwargs):
        super().__init__(**kwargs)
        self._emulator_token_url = token_url

    @property
    def _token_url(self) -> str:
        return self._emulator_token_url


def authenticator(emu, password=None):
    c = emu.credentials
    return EmulatorPasswordAuthenticator(
        emu.url + "/services/oauth2/token", consumer_key=c.client_id,
        consumer_secret=c.client_secret, username=c.username,
        password=c.password if password is None else password)


def client(emu, **kwargs) -> Client:
    return Client(authenticator(emu), connection_timeout=TIMEOUT_S, **kwargs)


async def receive(c: Client, n: int, timeout_s: float = TIMEOUT_S) -> list:
    """The next n messages, or a failure naming how many came before the deadline."""
    got = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while len(got) < n:
        remaining = deadline - loop.time()
        try:
            got.append(await asyncio.wait_for(c.receive(), max(remaining, 0.001)))
        except asyncio.TimeoutError:
            pytest.fail(f"received {len(got)} of {n} messages within {timeout_s}s: {got}")
    return got


def inject_each(emu, channel, payloads):
    """One inject call per payload: returns the replay IDs in order."""
    return [emu.inject(channel, p)[0] for p in payloads]


def ink(i):
    return {"Printer_Model__c": f"XZO-{i}", "Serial__c": f"S-{i}", "Level__c": i, "Urgent__c": False}


def assert_platform_event(msg, channel, payload):
    assert msg["channel"] == channel
    data = msg["data"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", data["schema"]), data
    for k, v in payload.items():
        assert data["payload"][k] == v, (k, data)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["payload"]["CreatedDate"])
    assert data["payload"]["CreatedById"].startswith("005")
    assert UUID_RE.match(data["event"]["EventUuid"]), data
    assert isinstance(data["event"]["replayId"], int)


async def test_password_grant_then_handshake(emu):
    c = client(emu)
    await c.open()
    try:
        assert c.auth.token_type == "Bearer"
        assert c.auth.instance_url.rstrip("/") == emu.url
        assert c.url == emu.url + "/cometd/45.0"
        await c.subscribe(EVENT)
        assert c.subscriptions == {EVENT}
    finally:
        await c.close()


async def test_first_connect_after_handshake_is_answered_at_once(emu):
    connect_timeout_s = CONNECT_TIMEOUT_MS / 1000
    c = client(emu)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await c.open()
    took = loop.time() - start
    try:
        assert took < connect_timeout_s / 2, (
            f"open() took {took:.2f}s; the emulator's long poll is {connect_timeout_s}s")
    finally:
        await c.close()


async def test_refresh_token_grant_then_events(emu):
    c = emu.credentials
    auth = EmulatorRefreshTokenAuthenticator(
        emu.url + "/services/oauth2/token", consumer_key=c.client_id,
        consumer_secret=c.client_secret, refresh_token=c.refresh_token)
    ids = inject_each(emu, EVENT, [ink(0)])
    async with Client(auth, replay=ReplayOption.ALL_EVENTS, connection_timeout=TIMEOUT_S) as sub:
        await sub.subscribe(EVENT)
        got = await receive(sub, 1)
    assert [m["data"]["event"]["replayId"] for m in got] == ids
    assert auth.access_token and auth.access_token != c.static_token


async def test_wrong_password_is_refused_by_the_token_endpoint(emu):
    c = Client(authenticator(emu, password="not-the-password"))
    with pytest.raises(AuthenticationError) as err:
        await c.open()
    # The library hands the token endpoint's error body over as the second argument.
    assert err.value.args[1]["error"] == "invalid_grant", err.value.args


async def test_replay_all_gets_retained_then_new_events(emu):
    old = [ink(i) for i in range(3)]
    old_ids = inject_each(emu, EVENT, old)
    async with client(emu, replay=ReplayOption.ALL_EVENTS) as c:
        await c.subscribe(EVENT)
        got = await receive(c, 3)
        for msg, payload in zip(got, old):
            assert_platform_event(msg, EVENT, payload)
        assert [m["data"]["event"]["replayId"] for m in got] == old_ids

        new = [ink(i) for i in range(3, 5)]
        new_ids = inject_each(emu, EVENT, new)
        got = await receive(c, 2)
        for msg, payload in zip(got, new):
            assert_platform_event(msg, EVENT, payload)
        assert [m["data"]["event"]["replayId"] for m in got] == new_ids
        assert len({m["data"]["event"]["EventUuid"] for m in got}) == 2


async def test_replay_new_only_skips_retained_events(emu):
    inject_each(emu, EVENT, [ink(i) for i in range(3)])
    async with client(emu, replay=ReplayOption.NEW_EVENTS) as c:
        await c.subscribe(EVENT)
        # The subscribe reply has come back: from here on every event is "new".
        new_ids = inject_each(emu, EVENT, [ink(10), ink(11)])
        got = await receive(c, 2)
        assert [m["data"]["event"]["replayId"] for m in got] == new_ids
        assert got[0]["data"]["payload"]["Serial__c"] == "S-10"


async def test_replay_from_a_given_id_gets_only_later_events(emu):
    ids = inject_each(emu, EVENT, [ink(i) for i in range(5)])
    storage = {EVENT: ReplayMarker(date="2000-01-01T00:00:00.000Z", replay_id=ids[1])}
    async with client(emu, replay=storage) as c:
        await c.subscribe(EVENT)
        got = await receive(c, 3)
        assert [m["data"]["event"]["replayId"] for m in got] == ids[2:]
        assert [m["data"]["payload"]["Serial__c"] for m in got] == ["S-2", "S-3", "S-4"]
        # The library stores what it consumed: the marker now names the last event.
        assert storage[EVENT].replay_id == ids[4]


@pytest.mark.parametrize("which", ["newer_than_newest", "older_than_retention"])
async def test_invalid_replay_id_gets_the_documented_error(emu, which):
    ids = inject_each(emu, EVENT, [ink(i) for i in range(6)])
    if which == "newer_than_newest":
        bad = ids[-1] + 1000
    else:
        emu.faults(retention=2)
        bad = ids[0]
    storage = {EVENT: ReplayMarker(date="2000-01-01T00:00:00.000Z", replay_id=bad)}
    async with client(emu, replay=storage) as c:
        with pytest.raises(ServerError) as err:
            await c.subscribe(EVENT)
        # aiocometd parses the Bayeux error "code::message" and keeps the response.
        assert err.value.error_code == 400, err.value.args
        response = err.value.response
        assert response["channel"] == "/meta/subscribe"
        assert response["successful"] is False
        assert response["error"] == INVALID_REPLAY.format(bad)
        assert EVENT not in c.subscriptions


async def test_invalid_replay_id_with_library_fallback_replays_all(emu):
    ids = inject_each(emu, EVENT, [ink(i) for i in range(4)])
    emu.faults(retention=2)
    storage = {EVENT: ReplayMarker(date="2000-01-01T00:00:00.000Z", replay_id=ids[0])}
    # The library's documented recovery only triggers on an error code of 400.
    async with client(emu, replay=storage, replay_fallback=ReplayOption.ALL_EVENTS) as c:
        await c.subscribe(EVENT)
        got = await receive(c, 2)
        assert [m["data"]["event"]["replayId"] for m in got] == ids[2:]


async def test_dropped_session_rehandshakes_and_resumes_from_the_last_event(emu):
    storage = {}
    async with client(emu, replay=storage) as c:
        await c.subscribe(EVENT)
        first = inject_each(emu, EVENT, [ink(i) for i in range(3)])
        got = await receive(c, 3)
        assert [m["data"]["event"]["replayId"] for m in got] == first
        sessions_before = emu.stats()["sessions_created"]

        emu.faults(drop_sessions=True)
        # Injected while the client has no session: it must get these through the replay ID it
        # resubscribes with after its new handshake - none lost, none repeated.
        second = inject_each(emu, EVENT, [ink(i) for i in range(3, 6)])
        got = await receive(c, 3)
        assert [m["data"]["event"]["replayId"] for m in got] == second
        assert emu.stats()["sessions_created"] > sessions_before

        third = inject_each(emu, EVENT, [ink(6)])
        got = await receive(c, 1)
        assert [m["data"]["event"]["replayId"] for m in got] == third
        assert storage[EVENT].replay_id == third[0]


async def test_resubscribe_after_a_dropped_session_is_not_held_for_a_long_poll(emu):
    connect_timeout_s = CONNECT_TIMEOUT_MS / 1000
    async with client(emu, replay={}) as c:
        await c.subscribe(EVENT)
        inject_each(emu, EVENT, [ink(0)])
        await receive(c, 1)
        emu.faults(drop_sessions=True)
        ids = inject_each(emu, EVENT, [ink(1)])
        loop = asyncio.get_running_loop()
        start = loop.time()
        got = await receive(c, 1)
        took = loop.time() - start
        assert [m["data"]["event"]["replayId"] for m in got] == ids
        assert took < connect_timeout_s / 2, (
            f"the replayed event came {took:.2f}s after the drop; the long poll is "
            f"{connect_timeout_s}s")


async def test_expired_token_makes_the_library_log_in_again_and_continue(emu):
    async with client(emu, replay={}) as c:
        await c.subscribe(EVENT)
        first = inject_each(emu, EVENT, [ink(0)])
        assert [m["data"]["event"]["replayId"] for m in await receive(c, 1)] == first
        token_before = c.auth.access_token
        issued = emu.stats()["tokens_issued"]

        emu.faults(expire_tokens=True)
        # The waiting long poll gets 401::Authentication invalid; aiocometd treats that as an
        # auth error, runs the password grant again and resends the connect.
        second = inject_each(emu, EVENT, [ink(1), ink(2)])
        got = await receive(c, 2)
        assert [m["data"]["event"]["replayId"] for m in got] == second
        assert emu.stats()["tokens_issued"] > issued
        assert c.auth.access_token != token_before


# --- the other channel kinds -------------------------------------------------------------------

# /topic/: `sobject` and `type` in the inject body; /data/: `change` for the header, `payload`
# for the fields (tests/emulator/README.md).

ACCOUNT_ID = "001xx000003DGb2AAG"


async def test_pushtopic_channel_has_event_and_sobject_only(emu):
    channel = "/topic/InkAccounts"
    first, _ = emu.inject(channel, type="updated", sobject={"Id": ACCOUNT_ID, "Name": "Acme"})
    async with client(emu, replay=ReplayOption.ALL_EVENTS) as c:
        await c.subscribe(channel)
        [msg] = await receive(c, 1)
    data = msg["data"]
    assert msg["channel"] == channel
    assert "schema" not in data and "payload" not in data, data
    assert data["sobject"] == {"Id": ACCOUNT_ID, "Name": "Acme"}, data
    assert data["event"]["replayId"] == first
    assert data["event"]["type"] == "updated", data
    assert "EventUuid" not in data["event"], data
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["event"]["createdDate"]), data


@pytest.mark.parametrize("channel", ["/data/AccountChangeEvent", "/data/ChangeEvents"])
async def test_change_data_capture_channel_has_header_and_no_event_uuid(emu, channel):
    header = {
        "entityName": "Account", "recordIds": [ACCOUNT_ID], "changeType": "UPDATE",
        "changeOrigin": "com/salesforce/api/rest/62.0", "transactionKey": "0002-abcd",
        "sequenceNumber": 1, "commitTimestamp": 1764610200000, "commitNumber": 10,
        "commitUser": "005xx000001SvQrAAK", "changedFields": ["Name"], "nulledFields": [],
        "diffFields": [],
    }
    first, _ = emu.inject(channel, {"Name": "Acme Renamed"}, change=header)
    async with client(emu, replay=ReplayOption.ALL_EVENTS) as c:
        await c.subscribe(channel)
        [msg] = await receive(c, 1)
    data = msg["data"]
    assert msg["channel"] == channel
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", data["schema"]), data
    assert data["payload"]["ChangeEventHeader"]["entityName"] == "Account"
    assert data["payload"]["ChangeEventHeader"]["recordIds"] == [ACCOUNT_ID]
    assert data["payload"]["ChangeEventHeader"]["changeType"] == "UPDATE"
    assert data["payload"]["ChangeEventHeader"]["commitTimestamp"] == 1764610200000
    assert data["payload"]["Name"] == "Acme Renamed"
    assert "CreatedDate" not in data["payload"] and "CreatedById" not in data["payload"], data
    assert data["event"] == {"replayId": first}, data
