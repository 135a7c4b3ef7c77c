#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_avro_decode and fuzz_pubsub_response (tests/fuzz/corpus/).

The Avro payloads are encoded here by hand from the Avro 1.11 specification ("Binary Encoding"),
independently of daemon/avro, for the schemas of tests/fuzz/pubsub_schemas.h in that order; the
FetchResponse seeds are the text protos below encoded by protoc against
proto/eventbus/v1/pubsub_api.proto. Replay IDs are 8-byte big-endian numbers, as the emulator
issues them. Run from the repository root after changing the schemas:

    tests/fuzz/make_pubsub_seeds.py tests/fuzz/corpus
"""
import os
import struct
import subprocess
import sys

def zz(n):
    n = (n << 1) ^ (n >> 63)
    out = b''
    while n >= 0x80:
        out += bytes([(n & 0x7f) | 0x80]); n >>= 7
    return out + bytes([n])
def s(t): b = t.encode(); return zz(len(b)) + b
def null(): return zz(0)
def some(b): return zz(1) + b
def dbl(x): return struct.pack('<d', x)
def flt(x): return struct.pack('<f', x)
def arr(items): return (zz(len(items)) + b''.join(items) if items else b'') + zz(0)
def boolean(b): return bytes([1 if b else 0])

platform = [
  zz(1795714200123) + s('005xx000001SvQrAAK') + some(s('XZO-5')) + some(dbl(12.5)) + some(zz(20783)) + some(zz(63000000)) + boolean(True),
  zz(0) + s('') + null() + null() + null() + null() + boolean(False),
]
def header(ct, changed, nulled=(), ids=('001xx000003DGb2AAG',)):
    return (s('Account') + arr([s(i) for i in ids]) + zz(ct) + s('com/salesforce/api/rest/62.0') +
            s('0002ac83-fcbd-9443-f901-7d3a380feb2c') + zz(1) + zz(1795714200123) + zz(10957268752) +
            s('005xx000001SvQrAAK') + arr([s(x) for x in nulled]) + arr([]) + arr([s(x) for x in changed]))
cdc = [
  header(1, ['0x14', '1-0x04'], ['0x04']) + zz(2) + null() + null() + some(s('Lovelace')) + null() + null() + some(zz(1795714200000)),
  header(0, ['0x1E', '3-0x3']) + some(s('Acme')) + some(s('+1 555')) + zz(1) + some(s('1 Main St')) + some(s('Paris')) + some(zz(1795714200000)),
  header(8, [], ids=()) + null() + null() + null() + null(),
]
alltypes = [
  boolean(True) + zz(-7) + zz(1 << 40) + flt(1.5) + dbl(-0.25) + s('héllo') + s('\x00\x01') + b'abc' + zz(2) +
  arr([null(), zz(1) + zz(5)]) + zz(1) + s('k') + s('v') + zz(0) + zz(2) + dbl(3.0) + zz(1795714200123),
  # negative block count with a byte size
  boolean(False) + zz(0) + zz(0) + flt(0) + dbl(0) + s('') + s('') + b'\0\0\0' + zz(0) +
  zz(-2) + zz(3) + null() + zz(1) + zz(9) + zz(0) + zz(0) + zz(1) + s('x') + zz(0),
]
cell = [zz(1) + zz(1) + zz(2) + zz(1) + zz(3) + zz(0), zz(5) + zz(0)]
sets = [platform, cdc, alltypes, cell]
root = sys.argv[1]
d = os.path.join(root, 'fuzz_avro_decode'); os.makedirs(d, exist_ok=True)
names = ['platform_event', 'change_event', 'all_types', 'recursive']
for i, payloads in enumerate(sets):
    for k, p in enumerate(payloads):
        open(os.path.join(d, f'{names[i]}_{k}.bin'), 'wb').write(bytes([i]) + p)
# FetchResponse text protos for protoc --encode
def esc(b): return ''.join('\\x%02x' % c for c in b)
def replay(n): return struct.pack('>Q', n)
def ev(schema, payload, uid, n):
    return 'events { event { id: "%s" schema_id: "%s" payload: "%s" } replay_id: "%s" }' % (uid, schema, esc(payload), esc(replay(n)))
protos = {
  'platform_two': ev('0', platform[0], '3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b', 2) + ev('0', platform[1], 'u2', 3) + ' latest_replay_id: "%s" rpc_id: "r" pending_num_requested: 98' % esc(replay(3)),
  'change_events': ev('1', cdc[0], '', 10) + ev('1', cdc[1], '', 11) + ev('1', cdc[2], '', 12),
  'keepalive': 'latest_replay_id: "%s" rpc_id: "keepalive" pending_num_requested: 100' % esc(replay(99)),
  'mixed': ev('2', alltypes[0], 'a', 1) + ev('3', cell[0], 'b', 2) + ev('9', b'', 'unknown', 3) + ev('0', b'\x02', 'trunc', 4),
}
d = os.path.join(root, 'fuzz_pubsub_response'); os.makedirs(d, exist_ok=True)
for name, text in protos.items():
    encoded = subprocess.run(
        ['protoc', '--proto_path=proto', '--encode=eventbus.v1.FetchResponse',
         'proto/eventbus/v1/pubsub_api.proto'], input=text.encode(), check=True,
        capture_output=True).stdout
    open(os.path.join(d, name + '.bin'), 'wb').write(encoded)
