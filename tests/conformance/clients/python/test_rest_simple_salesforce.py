"""simple-salesforce publishing platform events through the emulator's REST endpoints.

The library is given an access token and an instance URL (its documented "session ID" login);
it reaches the emulator through an HTTPS front whose test CA its requests session verifies.
"""

import asyncio
import re

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (SalesforceExpiredSession, SalesforceMalformedRequest,
                                          SalesforceResourceNotFound)

from test_streaming_aiosfstream import EVENT, client, receive
from aiosfstream_ng import ReplayOption

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def sf(emu, tls_front):
    return salesforce(emu, tls_front, emu.credentials.static_token)


def salesforce(emu, front, token):
    session = requests.Session()
    # Not from the environment: REQUESTS_CA_BUNDLE would replace the test CA, and a proxy
    # variable would send loopback traffic elsewhere.
    session.trust_env = False
    session.verify = str(front.ca_file)
    return Salesforce(instance_url=front.instance_url, session_id=token, version="62.0",
                      session=session)


def test_single_publish_is_enqueued_and_recorded(emu, sf):
    fields = {"Printer_Model__c": "XZO-5", "Serial__c": "S-1", "Level__c": 12.5,
              "Urgent__c": True}
    result = sf.Low_Ink__e.create(fields)
    assert result["success"] is True, result
    assert result["id"].startswith("e00"), result
    [enqueued] = result["errors"]
    assert enqueued["statusCode"] == "OPERATION_ENQUEUED" and enqueued["fields"] == []
    assert UUID_RE.match(enqueued["message"]), enqueued

    published = emu.wait_for_published("Low_Ink__e", 1)
    assert published["events"] == [fields]


def test_published_event_reaches_a_streaming_subscriber_with_its_uuid(emu, sf):
    result = sf.Low_Ink__e.create({"Serial__c": "S-stream"})
    uuid = result["errors"][0]["message"]

    async def subscribe_and_receive():
        async with client(emu, replay=ReplayOption.ALL_EVENTS) as c:
            await c.subscribe(EVENT)
            return (await receive(c, 1))[0]

    msg = asyncio.run(subscribe_and_receive())
    assert msg["data"]["event"]["EventUuid"] == uuid
    assert msg["data"]["payload"]["Serial__c"] == "S-stream"
    assert "CreatedDate" in msg["data"]["payload"] and "CreatedById" in msg["data"]["payload"]


def test_composite_publish_answers_each_record_in_order(emu, sf):
    records = [{"attributes": {"type": "Low_Ink__e"}, "Serial__c": f"C-{i}", "Level__c": i}
               for i in range(3)]
    records.insert(1, {"attributes": {"type": "Order_Placed__e"}, "Order_Number__c": "O-1"})
    results = sf.restful("composite/sobjects", method="POST",
                         json={"allOrNone": False, "records": records})
    assert isinstance(results, list) and len(results) == 4, results
    assert all(r["success"] is True for r in results), results
    assert len({r["errors"][0]["message"] for r in results}) == 4

    published = emu.wait_for_published("Low_Ink__e", 3)
    assert published["events"] == [{"Serial__c": f"C-{i}", "Level__c": i} for i in range(3)]
    assert emu.published("Order_Placed__e")["events"] == [{"Order_Number__c": "O-1"}]


def test_composite_with_one_bad_record_fails_only_that_record(emu, sf):
    records = [{"attributes": {"type": "Low_Ink__e"}, "Serial__c": "ok-0"},
               {"attributes": {"type": "Low_Ink__e"}, "No_Such_Field__c": "x"},
               {"attributes": {"type": "Low_Ink__e"}, "Serial__c": "ok-2"}]
    results = sf.restful("composite/sobjects", method="POST",
                         json={"allOrNone": False, "records": records})
    assert [r["success"] for r in results] == [True, False, True], results
    assert results[1]["errors"][0]["statusCode"] == "INVALID_FIELD", results[1]
    published = emu.wait_for_published("Low_Ink__e", 2)
    assert published["events"] == [{"Serial__c": "ok-0"}, {"Serial__c": "ok-2"}]


def test_unknown_field_gives_the_library_its_malformed_request_error(emu, sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Low_Ink__e.create({"Serial__c": "S", "No_Such_Field__c": "x"})
    assert err.value.status == 400
    # simple-salesforce parses the error array; its first entry names the error code.
    assert isinstance(err.value.content, list), err.value.content
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD", err.value.content
    assert "No_Such_Field__c" in err.value.content[0]["message"], err.value.content
    assert emu.published("Low_Ink__e")["count"] == 0


def test_unknown_event_type_is_not_found(emu, sf):
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.No_Such_Event__e.create({"A__c": "x"})
    assert err.value.status == 404
    assert err.value.content[0]["errorCode"] == "NOT_FOUND", err.value.content


def test_invalid_token_is_an_expired_session(emu, tls_front):
    sf = salesforce(emu, tls_front, "not-a-token")
    with pytest.raises(SalesforceExpiredSession) as err:
        sf.Low_Ink__e.create({"Serial__c": "S"})
    assert err.value.status == 401
    assert err.value.content[0]["errorCode"] == "INVALID_SESSION_ID", err.value.content
    assert "not-a-token" not in str(err.value.content)
