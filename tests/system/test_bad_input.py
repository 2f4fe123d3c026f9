"""Bad input at the API: each refusal has the right 4xx and a JSON
{code, message}; nothing is stored (head, state and the actor's nonce stay as
they were, and the next good transaction lands alone in the next block); the
node keeps serving. A transaction that passes admission but is rejected by its
module is committed with the rejection and consumes its nonce."""
import json

import pytest

from cchelpers import (Key, assert_json_error, canonical_json, make_tx,
                       tx_encoded_size, varint)

HOSPITAL = "st-marien-hospital"


class Ctx:
    def __init__(self, net, node):
        self.net = net
        self.node = node
        self.api = node.api()
        self.doctor = net.keys["dr-weber"]         # provider: may register patients
        self.admin = net.keys["hospital-admin"]    # the canary's signer
        self.pharmacist = net.keys["pharmacist-braun"]

    def patient_payload(self):
        return {"key": Key().public_hex, "org": HOSPITAL, "role": "patient"}

    def good_tx(self, key=None, nonce=None, **kw):
        key = key or self.doctor
        if nonce is None:
            nonce = self.api.next_nonce(key.public_hex)
        return self.net.tx(key, nonce, "identity", "register_actor", self.patient_payload(), **kw)

    def snapshot(self):
        info = self.api.info()
        nonces = {k.public_hex: self.api.next_nonce(k.public_hex)
                  for k in (self.doctor, self.pharmacist)}
        return info, nonces

    def assert_nothing_stored(self, before):
        info, nonces = before
        now = self.api.info()
        for f in ("height", "head_hash", "state_root"):
            assert now[f] == info[f], f"{f} changed: {info[f]} -> {now[f]}"
        for pk, n in nonces.items():
            assert self.api.next_nonce(pk) == n, f"nonce of {pk} moved"
        # The node still serves, and the next good transaction is alone in
        # the next block: nothing refused was queued behind our back.
        assert self.api.get_json("/healthz")["status"] == "ok"
        canary = self.good_tx(self.admin)
        st = self.api.commit(canary)
        assert st["height"] == info["height"] + 1, st
        blk = self.api.get_json(f"/v1/blocks/{st['height']}")
        assert blk["tx_ids"] == [canary.id], blk
        for pk, n in nonces.items():
            assert self.api.next_nonce(pk) == n


@pytest.fixture(scope="module")
def ctx(module_node_factory):
    net = module_node_factory.demo("bad-input")
    node = module_node_factory.node(net)
    c = Ctx(net, node)
    # One good transaction first, so that "replayed" has something to replay.
    c.first = c.good_tx()
    c.api.commit(c.first)
    yield c
    assert node.running, "the node died during the bad-input tests"
    assert node.stop() == 0


def _flip(b, i):
    b = bytearray(b)
    b[i] ^= 0x01
    return bytes(b)


def _tamper_key_digit(tx):
    """Changes one hex digit of the payload's key: still well-formed, but
    no longer what was signed."""
    key = tx.body["payload"]["key"].encode()
    forged = (b"0" if key[:1] != b"0" else b"1") + key[1:]
    assert tx.raw.count(key) == 1
    return tx.raw.replace(key, forged)


def nonminimal(n):
    """n as a two-group LEB128 (n < 128): valid bits, non-minimal form."""
    assert n < 0x80
    return bytes([n | 0x80, 0x00])


# (name) -> function(ctx) returning (content_type, body, http_status, message fragment)
def _bin(tx):
    return "application/octet-stream", tx if isinstance(tx, bytes) else tx.raw


BINARY_CASES = {
    "empty": lambda c: (*_bin(b""), 400, "truncated"),
    "truncated_by_one": lambda c: (*_bin(c.good_tx().raw[:-1]), 400, "truncated"),
    "truncated_in_header": lambda c: (*_bin(c.good_tx().raw[:20]), 400, "truncated"),
    "trailing_garbage": lambda c: (*_bin(c.good_tx().raw + b"\x00"), 400, "trailing"),
    "trailing_tx": lambda c: (*_bin(c.good_tx().raw * 2), 400, "trailing"),
    "nonminimal_nonce_varint": lambda c: (*_bin(c.good_tx(
        nonce_raw=nonminimal(c.api.next_nonce(c.doctor.public_hex)))), 400, "non-minimal"),
    "nonminimal_length_varint": lambda c: (*_bin(c.good_tx(
        chain_len_raw=nonminimal(len(c.net.chain_id)))), 400, "non-minimal"),
    "overlong_varint": lambda c: (*_bin(c.good_tx(nonce_raw=b"\xff" * 10 + b"\x01")), 400, "varint"),
    "version_2": lambda c: (*_bin(c.good_tx(version=2)), 400, "version"),
    "length_past_end": lambda c: (*_bin(bytes([1]) + varint(40) + c.net.chain_id.encode()), 400,
                                  "truncated"),
    "chain_id_too_long": lambda c: (*_bin(make_tx(c.doctor, "x" * 65, 1, "identity", "register_actor",
                                                  c.patient_payload()).raw), 413, "chain_id"),
    "bad_signature": lambda c: (*_bin(_flip(c.good_tx().raw, -10)), 400, "signature"),
    "signed_by_other_key": lambda c: (*_bin(c.good_tx(sign_with=c.admin)), 400, "signature"),
    "tampered_payload": lambda c: (*_bin(_tamper_key_digit(c.good_tx())), 400, "signature"),
    "wrong_chain_id": lambda c: (*_bin(make_tx(c.doctor, "other-chain", c.api.next_nonce(
        c.doctor.public_hex), "identity", "register_actor", c.patient_payload())), 400, "chain"),
    "unknown_module": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                "nosuchmodule", "register_actor",
                                                c.patient_payload())), 400, "module"),
    "unknown_action": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                "identity", "delete_everything",
                                                c.patient_payload())), 400, "action"),
    "schema_missing_field": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                      "identity", "register_actor",
                                                      {"key": Key().public_hex, "org": HOSPITAL})),
                                       400, "missing field"),
    "schema_unknown_field": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                      "identity", "register_actor",
                                                      dict(c.patient_payload(), extra=1))), 400,
                                       "unknown field"),
    "schema_bad_enum": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                 "identity", "register_actor",
                                                 dict(c.patient_payload(), role="king"))), 400, "role"),
    "schema_upper_hex": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                  "identity", "register_actor",
                                                  dict(c.patient_payload(),
                                                       key=Key().public_hex.upper()))), 400, "hex"),
    "schema_wrong_type": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                   "identity", "register_actor",
                                                   dict(c.patient_payload(), org=7))), 400, "org"),
    "schema_short_key": lambda c: (*_bin(c.net.tx(c.doctor, c.api.next_nonce(c.doctor.public_hex),
                                                  "identity", "revoke_actor", {"key": "abcd"})), 400,
                                   "key"),
    "noncanonical_whitespace": lambda c: (*_bin(c.good_tx(payload_bytes=json.dumps(
        c.patient_payload(), sort_keys=True).encode())), 400, "canonical"),
    "noncanonical_key_order": lambda c: (*_bin(c.good_tx(payload_bytes=json.dumps(
        {"role": "patient", "org": HOSPITAL, "key": Key().public_hex},
        separators=(",", ":")).encode())), 400, "canonical"),
    "noncanonical_escape": lambda c: (*_bin(c.good_tx(payload_bytes=canonical_json(
        c.patient_payload()).replace(b"patient", b"p\\u0061tient"))), 400, "canonical"),
    "payload_float": lambda c: (*_bin(c.good_tx(payload_bytes=b'{"key":1.5}')), 400, "integer"),
    "payload_not_json": lambda c: (*_bin(c.good_tx(payload_bytes=b"{not json")), 400, "json"),
    "payload_array": lambda c: (*_bin(c.good_tx(payload_bytes=b"[1,2]")), 400, "object"),
    "payload_invalid_utf8": lambda c: (*_bin(c.good_tx(payload_bytes=b'{"org":"\xff"}')), 400, None),
    "nonce_zero": lambda c: (*_bin(c.good_tx(nonce=0)), 400, "nonce"),
    "replayed_tx": lambda c: (*_bin(c.first.raw), 409, "already used"),
    "old_nonce": lambda c: (*_bin(c.good_tx(nonce=1)), 409, "already used"),
    "nonce_gap": lambda c: (*_bin(c.good_tx(nonce=c.api.next_nonce(c.doctor.public_hex) + 1)), 409,
                            "out of order"),
    "nonce_far_ahead": lambda c: (*_bin(c.good_tx(nonce=2 ** 63)), 409, "out of order"),
    "unregistered_actor": lambda c: (*_bin(c.good_tx(Key(), nonce=1)), 403, "not registered"),
}


@pytest.mark.parametrize("case", sorted(BINARY_CASES))
def test_bad_binary_transaction(ctx, case):
    before = ctx.snapshot()
    ctype, body, status, fragment = BINARY_CASES[case](ctx)
    r = ctx.api.post_raw_tx(body, content_type=ctype)
    assert_json_error(r, status, message_contains=fragment)
    # ?wait=commit changes nothing about a refusal.
    r = ctx.api.post_raw_tx(body, content_type=ctype, wait=True)
    assert_json_error(r, status, message_contains=fragment)
    ctx.assert_nothing_stored(before)


def _json_tx(c, **changes):
    j = c.good_tx().json
    j.update(changes)
    return j


JSON_CASES = {
    "not_json": lambda c: ("application/json", b"{this is not json", 400, "json"),
    "empty_body": lambda c: ("application/json", b"", 400, "json"),
    "json_array": lambda c: ("application/json", b"[]", 400, "object"),
    "json_null": lambda c: ("application/json", b"null", 400, "object"),
    "missing_signature": lambda c: ("application/json", json.dumps(
        {k: v for k, v in c.good_tx().json.items() if k != "signature"}), 400, "signature"),
    "missing_payload": lambda c: ("application/json", json.dumps(
        {k: v for k, v in c.good_tx().json.items() if k != "payload"}), 400, "payload"),
    "nonce_negative": lambda c: ("application/json", json.dumps(_json_tx(c, nonce=-1)), 400, "nonce"),
    "nonce_string": lambda c: ("application/json", json.dumps(_json_tx(c, nonce="1")), 400, "nonce"),
    "nonce_float": lambda c: ("application/json", json.dumps(_json_tx(c, nonce=1.0)), 400, "nonce"),
    "actor_short": lambda c: ("application/json", json.dumps(_json_tx(c, actor="abcd")), 400, "actor"),
    "actor_not_hex": lambda c: ("application/json", json.dumps(_json_tx(c, actor="zz" * 32)), 400,
                                "actor"),
    "signature_short": lambda c: ("application/json", json.dumps(_json_tx(c, signature="00" * 10)), 400,
                                  "signature"),
    "bad_signature": lambda c: ("application/json", json.dumps(_json_tx(c, signature="00" * 64)), 400,
                                "signature"),
    "payload_changed_after_signing": lambda c: ("application/json", json.dumps(_json_tx(
        c, payload=c.patient_payload())), 400, "signature"),
    "payload_float": lambda c: ("application/json", json.dumps(_json_tx(
        c, payload=dict(c.patient_payload(), x=1.5))), 400, "integer"),
    "payload_string": lambda c: ("application/json", json.dumps(_json_tx(c, payload="{}")), 400,
                                 "object"),
    "wrong_chain_id": lambda c: ("application/json", json.dumps(make_tx(
        c.doctor, "other-chain", c.api.next_nonce(c.doctor.public_hex), "identity",
        "register_actor", c.patient_payload()).json), 400, "chain"),
    "module_name_too_long": lambda c: ("application/json", json.dumps(_json_tx(c, module="m" * 33)),
                                       400, "module"),
    "unregistered_actor": lambda c: ("application/json", json.dumps(c.good_tx(Key(), nonce=1).json),
                                     403, "not registered"),
    "replayed_tx": lambda c: ("application/json", json.dumps(c.first.json), 409, "already used"),
    "text_plain": lambda c: ("text/plain", json.dumps(c.good_tx().json), 415, None),
    "form_urlencoded": lambda c: ("application/x-www-form-urlencoded", c.good_tx().raw, 415, None),
    "xml": lambda c: ("application/xml", b"<tx/>", 415, None),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_bad_json_transaction(ctx, case):
    before = ctx.snapshot()
    ctype, body, status, fragment = JSON_CASES[case](ctx)
    r = ctx.api.post_raw_tx(body.encode() if isinstance(body, str) else body, content_type=ctype)
    assert_json_error(r, status, message_contains=fragment)
    ctx.assert_nothing_stored(before)


def _sized_tx(c, size):
    """A register_actor transaction of exactly `size` encoded bytes (its
    payload breaks the schema: an over-long field)."""
    nonce = c.api.next_nonce(c.doctor.public_hex)
    base = {"key": Key().public_hex, "org": HOSPITAL, "role": "patient", "pad": ""}
    base_len = len(canonical_json(base))
    pad = 0
    while tx_encoded_size(c.net.chain_id, nonce, "identity", "register_actor", base_len + pad) < size:
        pad += 1
    tx = c.net.tx(c.doctor, nonce, "identity", "register_actor", dict(base, pad="p" * pad))
    assert len(tx.raw) == size, (len(tx.raw), size)
    return tx


@pytest.mark.parametrize("form", ["binary", "json"])
def test_oversized_transaction_is_413(ctx, form):
    limit = ctx.api.info()["max_tx_bytes"]
    assert limit == 65536
    before = ctx.snapshot()
    post = ctx.api.post_raw_tx if form == "binary" else (lambda t: ctx.api.post_json_tx(t))
    # One byte over the genesis limit: too large.
    assert_json_error(post(_sized_tx(ctx, limit + 1)), 413, code="too_large",
                      message_contains=str(limit))
    # Exactly at the limit the size is fine and the schema refuses it instead.
    assert_json_error(post(_sized_tx(ctx, limit)), 400, message_contains="unknown field")
    ctx.assert_nothing_stored(before)


def test_transaction_over_decoder_limit_is_413(ctx):
    before = ctx.snapshot()
    tx = ctx.good_tx(payload_bytes=b'{"x":"' + b"y" * (1 << 20) + b'"}')
    assert_json_error(ctx.api.post_raw_tx(tx), 413)
    ctx.assert_nothing_stored(before)


def test_batch_of_bad_transactions(ctx):
    before = ctx.snapshot()
    good = ctx.good_tx()
    bad = [good.raw[:-3], _flip(good.raw, -1), ctx.good_tx(Key(), nonce=1).raw]
    r = ctx.api.post_batch(bad)
    assert r.status_code == 400, r.text
    res = r.json()
    assert res["accepted"] == 0 and len(res["results"]) == 3
    for item in res["results"]:
        assert item["error"]["code"] and item["error"]["message"], item
    assert res["results"][2]["error"]["code"] == "permission_denied"
    # A broken frame: the length runs past the end.
    r = ctx.api.s.post(ctx.api.url + "/v1/transactions/batch", data=varint(5000) + good.raw,
                       headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400 and r.json()["accepted"] == 0, r.text
    ctx.assert_nothing_stored(before)


def test_batch_mixed_commits_only_the_good(ctx):
    nonce = ctx.api.next_nonce(ctx.doctor.public_hex)
    g1 = ctx.good_tx(nonce=nonce)
    bad = ctx.good_tx(nonce=nonce + 5)  # out of order
    g2 = ctx.good_tx(nonce=nonce + 1)
    r = ctx.api.post_batch([g1.raw, bad.raw, _flip(g2.raw, -1), g2.raw])
    assert r.status_code == 202, r.text
    res = r.json()
    assert res["accepted"] == 2
    assert res["results"][0] == {"id": g1.id, "status": "pending"}
    assert res["results"][1]["error"]["code"] == "failed_precondition"
    assert res["results"][2]["error"]["code"] == "invalid_argument"
    assert res["results"][3] == {"id": g2.id, "status": "pending"}
    for t in (g1, g2):
        assert ctx.api.wait_committed(t.id)["result"]["code"] == "ok"
    assert ctx.api.get(f"/v1/transactions/{bad.id}").status_code == 404
    assert ctx.api.next_nonce(ctx.doctor.public_hex) == nonce + 2


def test_batch_with_a_duplicate(ctx):
    g = ctx.good_tx()
    r = ctx.api.post_batch([g.raw, g.raw])
    assert r.status_code == 202, r.text
    res = r.json()
    assert res["accepted"] == 1
    assert res["results"][0] == {"id": g.id, "status": "pending"}
    assert res["results"][1]["error"]["code"] in ("already_exists", "failed_precondition")
    st = ctx.api.wait_committed(g.id)
    blk = ctx.api.get_json(f"/v1/blocks/{st['height']}")
    assert blk["tx_ids"].count(g.id) == 1


def test_revoked_actor_is_refused(ctx):
    # A provider registered, then revoked by its admin, can no longer sign.
    prov = Key()
    ctx.api.commit(ctx.net.tx(ctx.admin, ctx.api.next_nonce(ctx.admin.public_hex), "identity",
                              "register_actor", {"key": prov.public_hex, "org": HOSPITAL,
                                                 "role": "provider"}))
    ok = ctx.net.tx(prov, 1, "identity", "register_actor", ctx.patient_payload())
    assert ctx.api.commit(ok)["result"]["code"] == "ok"
    st = ctx.api.commit(ctx.net.tx(ctx.admin, ctx.api.next_nonce(ctx.admin.public_hex), "identity",
                                   "revoke_actor", {"key": prov.public_hex, "reason": "left"}))
    assert st["result"]["code"] == "ok"
    actor = ctx.api.get_json(f"/v1/modules/identity/actors/{prov.public_hex}")
    assert actor["status"] == "revoked" and actor["reason"] == "left"
    before = ctx.snapshot()
    r = ctx.api.post_json_tx(ctx.net.tx(prov, 2, "identity", "register_actor", ctx.patient_payload()))
    assert_json_error(r, 403, code="permission_denied")
    ctx.assert_nothing_stored(before)


def test_module_rejection_is_committed_and_consumes_the_nonce(ctx):
    api = ctx.api
    pk = ctx.doctor.public_hex
    existing = ctx.pharmacist.public_hex  # registered at genesis
    record_before = api.get_json(f"/v1/modules/identity/actors/{existing}")
    nonce = api.next_nonce(pk)
    tx = ctx.net.tx(ctx.doctor, nonce, "identity", "register_actor",
                    {"key": existing, "org": HOSPITAL, "role": "patient"})
    r = api.post_json_tx(tx, wait=True)
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["status"] == "committed"
    assert st["result"]["code"] == "already_exists" and st["result"]["detail"], st
    # Stored with its rejection: in its block, and in GET /v1/transactions.
    full = api.get_json(f"/v1/blocks/{st['height']}?txs=full")
    entry = [t for t in full["transactions"] if t["id"] == tx.id]
    assert len(entry) == 1 and entry[0]["result"]["code"] == "already_exists"
    assert api.tx_status(tx.id)["result"]["code"] == "already_exists"
    # The nonce is used up; the existing actor is untouched.
    assert api.next_nonce(pk) == nonce + 1
    assert api.get_json(f"/v1/modules/identity/actors/{existing}") == record_before
    assert_json_error(api.post_json_tx(ctx.net.tx(ctx.doctor, nonce, "identity", "register_actor",
                                                  ctx.patient_payload())), 409)
    # An unauthorised action is also a committed rejection: a provider may
    # not register a provider.
    tx2 = ctx.net.tx(ctx.doctor, nonce + 1, "identity", "register_actor",
                     {"key": Key().public_hex, "org": HOSPITAL, "role": "provider"})
    st2 = api.commit(tx2)
    assert st2["result"]["code"] == "unauthorized"
    assert api.get(f"/v1/modules/identity/actors/{tx2.body['payload']['key']}").status_code == 404
    assert api.next_nonce(pk) == nonce + 2
    # And the proof of a rejected transaction proves the rejection.
    proof = api.get_json(f"/v1/proofs/{tx.id}")
    assert proof["result"]["name"] == "already_exists"


GET_CASES = [
    ("/no/such/endpoint", 404),
    ("/v1/transactions/" + "ab" * 32, 404),
    ("/v1/transactions/xyz", 404),
    ("/v1/blocks/99999999", 404),
    ("/v1/blocks/-1", 404),
    ("/v1/blocks/abc", 404),
    ("/v1/proofs/" + "ab" * 32, 404),
    ("/v1/state/nosuchmodule", 404),
    ("/v1/modules/nosuchmodule/x", 404),
    ("/v1/modules/identity/actors/xyz", 400),
    ("/v1/modules/identity/actors/" + "00" * 32, 404),
    ("/v1/modules/identity/nosuchquery", 404),
    ("/v1/modules/identity/orgs/nosuchorg", 404),
]


@pytest.mark.parametrize("path,status", GET_CASES)
def test_bad_queries_are_json_errors(ctx, path, status):
    assert_json_error(ctx.api.get(path), status)


def test_wrong_method_is_a_json_error(ctx):
    r = ctx.api.s.delete(ctx.api.url + "/v1/transactions")
    assert 400 <= r.status_code < 500
    r = ctx.api.s.post(ctx.api.url + "/v1/info", data=b"{}")
    assert 400 <= r.status_code < 500


def test_node_still_healthy_after_all_bad_input(ctx):
    metrics = ctx.api.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert "carechain_tx_refused_total" in text
    assert "carechain_block_height" in text
    ctx.api.commit(ctx.good_tx())


def test_body_over_node_limit_is_413(ctx):
    before = ctx.snapshot()
    r = ctx.api.post_raw_tx(b"x" * (9 << 20))  # the node takes at most 8 MiB
    assert_json_error(r, 413, code="too_large")
    ctx.assert_nothing_stored(before)
