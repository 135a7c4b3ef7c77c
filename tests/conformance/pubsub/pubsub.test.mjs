// The npm Pub/Sub API client salesforce-pubsub-api-client (pinned in package-lock.json) against
// sf-emulator's Pub/Sub API over TLS, used as its README says. tests/conformance/pubsub/run
// starts the emulator and passes, in the environment:
//   SFKB_PUBSUB_ENDPOINT  host:port of the emulator's gRPC server (TLS, certificate for localhost)
//   SFKB_PUBSUB_CA        the PEM file of the test CA that signed that certificate
//   SFKB_EMULATOR_URL     the emulator's HTTP URL (admin API: inject, published, stats)
//   SFKB_STATIC_TOKEN     an access token the emulator accepts
// Run with node's own test runner: node --test (no other framework).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { afterEach, beforeEach, test } from 'node:test';

import grpc from '@grpc/grpc-js';
import PubSubApiClient from 'salesforce-pubsub-api-client';

const endpoint = required('SFKB_PUBSUB_ENDPOINT');
const emulatorUrl = required('SFKB_EMULATOR_URL');
const token = required('SFKB_STATIC_TOKEN');
const testCa = fs.readFileSync(required('SFKB_PUBSUB_CA'));
const TOPIC = '/event/Low_Ink__e';
const WAIT_MS = 15000;

function required(name) {
    const value = process.env[name];
    if (!value) {
        throw new Error(`${name} is not set: run tests/conformance/pubsub/run`);
    }
    return value;
}

// The client trusts only the CA bundle it ships (it passes that bundle to
// grpc.credentials.createSsl itself; NODE_EXTRA_CA_CERTS does not apply to an explicit CA list).
// The one adaptation: the same call with the test CA in place of the bundle. Verification stays
// on (rejectUnauthorized is the client's default, true), the library's files stay untouched.
const createSsl = grpc.credentials.createSsl;
grpc.credentials.createSsl = (rootCerts, privateKey, certChain, verifyOptions) => {
    assert.equal(verifyOptions?.rejectUnauthorized, true, 'the client verifies the server');
    return createSsl(testCa, privateKey, certChain, verifyOptions);
};

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function admin(path, body) {
    const res = await fetch(`${emulatorUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    return JSON.parse(text);
}

const inject = (count, payload) => admin('/_emulator/inject', { channel: TOPIC, count, payload });

async function newClient(accessToken = token) {
    const { org_id: organizationId } = await admin('/_emulator/stats');
    const client = new PubSubApiClient(
        {
            authType: 'user-supplied',
            accessToken,
            // The client requires an https:// instance URL; it only sends it as metadata.
            instanceUrl: emulatorUrl.replace(/^http:/, 'https:'),
            organizationId,
            pubSubEndpoint: endpoint
        },
        quietLogger
    );
    await client.connect();
    return client;
}

// Every stream a test opened, so that it can be ended before the client is closed: the client's
// close() removes the streams' listeners without cancelling them, and an error arriving on a
// stream without listeners would be an uncaught exception.
const recorders = [];

// Collects what a subscribe (or publishBatch) callback reports; waitFor resolves once a
// condition holds.
class Recorder {
    events = [];
    keepalives = 0;
    errors = [];
    statuses = [];
    publishResponses = [];
    #waiters = [];

    constructor() {
        recorders.push(this);
    }

    callback = (subscription, type, data) => {
        if (type === 'event') this.events.push(data);
        else if (type === 'grpcKeepAlive') this.keepalives += 1;
        else if (type === 'error') this.errors.push(data);
        else if (type === 'grpcStatus') this.statuses.push(data);
        else if (type === 'publishResponse') this.publishResponses.push(data);
        this.#waiters = this.#waiters.filter(({ condition, resolve }) => !(condition() && (resolve(), true)));
    };

    get ended() {
        return this.errors.length > 0 || this.statuses.length > 0;
    }

    waitFor(what, condition) {
        if (condition()) return Promise.resolve();
        return new Promise((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)),
                WAIT_MS
            );
            this.#waiters.push({ condition, resolve: () => (clearTimeout(timer), resolve()) });
        });
    }
}

// Ends every open stream from the server side (the emulator's reset_pubsub_streams fault) and
// waits until the client reported each end, then closes the client.
async function closeClient() {
    await admin('/_emulator/faults', { reset_pubsub_streams: true });
    for (const rec of recorders.splice(0)) {
        await rec.waitFor('the stream to end', () => rec.ended);
    }
    client.close();
}

let client;
beforeEach(async () => {
    await admin('/_emulator/reset', {});
    client = await newClient();
});
afterEach(closeClient);

test('subscribeFromEarliestEvent receives injected events with their fields and replay IDs', async () => {
    const ids = await inject(3, { Printer_Model__c: 'XZO-{seq}', Level__c: 12.5, Urgent__c: true });
    const rec = new Recorder();
    client.subscribeFromEarliestEvent(TOPIC, rec.callback, 3);
    await rec.waitFor('3 events', () => rec.events.length === 3);
    assert.deepEqual(rec.errors, []);
    assert.equal(rec.events[0].replayId, ids.first_replay_id);
    assert.equal(rec.events[2].replayId, ids.last_replay_id);
    rec.events.forEach((event, i) => {
        assert.equal(event.payload.Printer_Model__c, `XZO-${i}`);
        assert.equal(event.payload.Level__c, 12.5);
        assert.equal(event.payload.Urgent__c, true);
        assert.equal(event.payload.Serial__c, null);
        assert.equal(event.payload.CreatedById, '005xx000001SvQrAAK');
        assert.ok(event.payload.CreatedDate > 1.7e12, 'CreatedDate in epoch milliseconds');
        assert.match(event.id, /^[0-9a-f-]{36}$/, 'the EventUuid');
    });
});

test('subscribe (LATEST) receives only events published after it started', async () => {
    await inject(2, { Printer_Model__c: 'old' });
    const rec = new Recorder();
    client.subscribe(TOPIC, rec.callback, 2);
    // A keepalive shows that the subscription is in place before the new events exist.
    await rec.waitFor('a keepalive', () => rec.keepalives > 0);
    const ids = await inject(2, { Printer_Model__c: 'new-{seq}' });
    await rec.waitFor('2 events', () => rec.events.length === 2);
    assert.deepEqual(rec.events.map((e) => e.replayId), [ids.first_replay_id, ids.last_replay_id]);
    assert.deepEqual(rec.events.map((e) => e.payload.Printer_Model__c), ['new-0', 'new-1']);
});

test('subscribeFromReplayId resumes after the given replay ID', async () => {
    await inject(3, { Printer_Model__c: 'r-{seq}' });
    const first = new Recorder();
    client.subscribeFromEarliestEvent(TOPIC, first.callback, 3);
    await first.waitFor('3 events', () => first.events.length === 3);
    await closeClient();

    client = await newClient();
    const rec = new Recorder();
    client.subscribeFromReplayId(TOPIC, rec.callback, 5, first.events[0].replayId);
    await rec.waitFor('2 events', () => rec.events.length === 2);
    assert.deepEqual(rec.events.map((e) => e.payload.Printer_Model__c), ['r-1', 'r-2']);
    assert.equal(rec.events[1].replayId, first.events[2].replayId);
});

test('publish and publishBatch reach the org, and subscribers see the events', async () => {
    const payload = (model) => ({
        CreatedDate: Date.now(),
        CreatedById: '005xx000001SvQrAAK',
        Printer_Model__c: { string: model },
        Serial__c: null,
        Level__c: { double: 3.5 },
        Urgent__c: { boolean: false }
    });
    const one = await client.publish(TOPIC, payload('single'), 'corr-1');
    assert.equal(one.correlationKey, 'corr-1');
    assert.ok(one.replayId > 0);

    const publisher = new Recorder();
    await client.publishBatch(
        TOPIC,
        [{ id: 'b-0', payload: payload('batch-0') }, { id: 'b-1', payload: payload('batch-1') }],
        publisher.callback
    );
    await publisher.waitFor('a PublishResponse', () => publisher.publishResponses.length > 0);
    assert.deepEqual(publisher.errors, []);
    const [batch] = publisher.publishResponses;
    assert.deepEqual(batch.results.map((r) => r.correlationKey), ['b-0', 'b-1']);

    const rec = new Recorder();
    const published = await admin('/_emulator/published?event=Low_Ink__e');
    assert.equal(published.count, 3);
    assert.deepEqual(published.events[0], { Printer_Model__c: 'single', Level__c: 3.5, Urgent__c: false });

    client.subscribeFromEarliestEvent(TOPIC, rec.callback, 3);
    await rec.waitFor('3 events', () => rec.events.length === 3);
    assert.deepEqual(rec.events.map((e) => e.payload.Printer_Model__c), ['single', 'batch-0', 'batch-1']);
    assert.equal(rec.events[0].replayId, one.replayId);
    assert.deepEqual(rec.events.slice(1).map((e) => e.replayId), batch.results.map((r) => r.replayId));
});

test('an invalid token fails with UNAUTHENTICATED and Salesforce\'s error code', async () => {
    await closeClient();
    client = await newClient('not-a-valid-token');
    const rec = new Recorder();
    client.subscribe(TOPIC, rec.callback, 1);
    await rec.waitFor('an error', () => rec.errors.length > 0);
    assert.equal(rec.errors[0].code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(rec.errors[0].metadata.get('error-code'), ['sfdc.platform.eventbus.grpc.service.auth.error']);
    await assert.rejects(client.publish(TOPIC, {}), (error) => error.cause?.code === grpc.status.UNAUTHENTICATED);
});

test('a replay ID outside the retention window fails with the corrupted replay ID code', async () => {
    const ids = await inject(1, { Printer_Model__c: 'only' });
    const rec = new Recorder();
    client.subscribeFromReplayId(TOPIC, rec.callback, 1, ids.last_replay_id + 1000);
    await rec.waitFor('an error', () => rec.errors.length > 0);
    assert.equal(rec.errors[0].code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(rec.errors[0].metadata.get('error-code'), [
        'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted'
    ]);
});
