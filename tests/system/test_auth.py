"""Issue 3: refused requests change nothing and are logged without keys."""
import json
import os
import time

from cchelpers import Api, Key, assert_json_error, authority_of, sign_headers


def test_unsigned_forged_replayed_and_expired_submissions_change_nothing(node_factory):
    net = node_factory.demo("auth")
    node = node_factory.node(net)
    admin = net.keys["hospital-admin"]
    api = node.api()
    before = api.info()
    patient = Key()
    tx = net.tx(admin, api.next_nonce(admin.public_hex), "identity", "register_actor",
                {"key": patient.public_hex, "org": "st-marien-hospital", "role": "patient"})
    body = tx.raw
    url = node.url + "/v1/transactions?wait=commit"
    ctype = {"Content-Type": "application/octet-stream"}
    raw = Api(node.url, key=None)  # sends no signature headers by itself
    here = authority_of(node.url)

    assert_json_error(raw.s.post(url, data=body, headers=ctype), 401, "unauthenticated", "not signed")
    h = sign_headers(admin, "POST", here, "/v1/transactions?wait=commit", body)
    h["Signature"] = "sig1=:" + "A" * 86 + "==:"
    assert_json_error(raw.s.post(url, data=body, headers={**ctype, **h}), 401, "unauthenticated")
    h = sign_headers(admin, "POST", here, "/v1/transactions?wait=commit", body, created=int(time.time()) - 3600)
    assert_json_error(raw.s.post(url, data=body, headers={**ctype, **h}), 401, "unauthenticated", "expired")
    h = sign_headers(admin, "POST", here, "/v1/transactions", body)  # signed for another target
    assert_json_error(raw.s.post(url, data=body, headers={**ctype, **h}), 401, "unauthenticated")
    h = sign_headers(admin, "POST", here, "/v1/transactions?wait=commit", b"other body")
    assert_json_error(raw.s.post(url, data=body, headers={**ctype, **h}), 401, "unauthenticated", "digest")
    stranger = Key()  # a valid signature by an unknown key
    h = sign_headers(stranger, "POST", here, "/v1/transactions?wait=commit", body)
    assert_json_error(raw.s.post(url, data=body, headers={**ctype, **h}), 403, "permission_denied")

    # Nothing changed: same head, the transaction is unknown, the nonce unused.
    after = api.info()
    assert (after["height"], after["state_root"]) == (before["height"], before["state_root"])
    assert api.get(f"/v1/transactions/{tx.id}").status_code == 404
    assert api.next_nonce(admin.public_hex) == tx.json["nonce"]

    # A replayed (otherwise valid) request is refused the second time only.
    h = sign_headers(admin, "POST", here, "/v1/transactions?wait=commit", body)
    first = raw.s.post(url, data=body, headers={**ctype, **h})
    assert first.status_code == 200 and first.json()["status"] == "committed", first.text
    assert_json_error(raw.s.post(url, data=body, headers={**ctype, **h}), 401, "unauthenticated", "nonce")

    # A wrong role: a patient may not read blocks.
    pat = Api(node.url, net.keys["patient-anna"])
    assert_json_error(pat.get("/v1/blocks/0"), 403, "permission_denied")
    # Refusals are counted, and logged without keys or ids.
    metrics = api.get("/metrics").text
    assert 'carechain_http_refused_total{reason="unauthenticated"}' in metrics
    assert 'carechain_http_refused_total{reason="policy"}' in metrics
    node.stop()
    log = open(node.err_path).read() + open(node.out_path).read()
    assert "-> 401" in log and "-> 403" in log
    assert admin.public_hex not in log and tx.id not in log, "a key or id reached the log"

