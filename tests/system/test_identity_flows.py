"""Identity flows end to end, and payloads with non-ASCII text: a client that
follows the canonical JSON rules (sorted keys, no whitespace, UTF-8, minimal
escapes) produces exactly the bytes the node accepts, in both forms."""
import pytest

from cchelpers import Api, Key, assert_json_error

HOSPITAL = "st-marien-hospital"
PHARMACY = "apotheke-am-markt"


@pytest.fixture(scope="module")
def net_api(module_node_factory):
    net = module_node_factory.demo("identity")
    node = module_node_factory.node(net)
    yield net, node.api()
    assert node.stop() == 0


def _submit(net, api, key, action, payload, binary=False):
    tx = net.tx(key, api.next_nonce(key.public_hex), "identity", action, payload)
    return tx, api.commit(tx, binary=binary)


REASONS = ["é ü ß 日本 \u2028 \x7f", "ctl \x01\x1f \b\f\n\r\t \" \\ /", "emoji 😀 \ud7ff\ue000"]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("reason", REASONS, ids=["latin-cjk", "escapes", "astral"])
def test_unicode_payload_round_trips(net_api, reason, binary):
    net, api = net_api
    admin = net.keys["hospital-admin"]
    k = Key()
    _submit(net, api, admin, "register_actor", {"key": k.public_hex, "org": HOSPITAL, "role": "patient"})
    tx, st = _submit(net, api, admin, "revoke_actor", {"key": k.public_hex, "reason": reason}, binary)
    assert st["result"]["code"] == "ok"
    assert api.tx_status(tx.id)["tx"]["payload"]["reason"] == reason
    rec = api.get_json(f"/v1/modules/identity/actors/{k.public_hex}")
    assert rec["status"] == "revoked" and rec["reason"] == reason
    # The binary form the node stores is byte for byte what we signed.
    blk = api.get(f"/v1/blocks/{st['height']}?format=binary").content
    assert tx.raw in blk


def test_roles_rotation_and_revocation(net_api):
    net, api = net_api
    doctor, patient = net.keys["dr-weber"], net.keys["patient-anna"]
    padmin = net.keys["pharmacy-admin"]

    # A provider vouches for a patient of its own organisation only.
    _, st = _submit(net, api, doctor, "register_actor",
                    {"key": Key().public_hex, "org": PHARMACY, "role": "patient"})
    assert st["result"]["code"] == "unauthorized"
    # A patient registers nobody.
    _, st = _submit(net, api, patient, "register_actor",
                    {"key": Key().public_hex, "org": HOSPITAL, "role": "patient"})
    assert st["result"]["code"] == "unauthorized"
    # An admin of another organisation cannot revoke our doctor.
    _, st = _submit(net, api, padmin, "revoke_actor", {"key": doctor.public_hex})
    assert st["result"]["code"] == "unauthorized"
    # Unknown organisation.
    _, st = _submit(net, api, padmin, "register_actor",
                    {"key": Key().public_hex, "org": "no-such-org", "role": "patient"})
    assert st["result"]["code"] == "not_found"

    # The pharmacy admin registers a pharmacist, who rotates to a new key.
    ph_old, ph_new = Key(), Key()
    _, st = _submit(net, api, padmin, "register_actor",
                    {"key": ph_old.public_hex, "org": PHARMACY, "role": "pharmacist"})
    assert st["result"]["code"] == "ok"
    _, st = _submit(net, api, ph_old, "rotate_key", {"new_key": ph_new.public_hex})
    assert st["result"]["code"] == "ok"
    old = api.get_json(f"/v1/modules/identity/actors/{ph_old.public_hex}")
    new = api.get_json(f"/v1/modules/identity/actors/{ph_new.public_hex}")
    assert old["status"] == "revoked" and old["rotated_to"] == ph_new.public_hex
    assert new["status"] == "active" and new["rotated_from"] == ph_old.public_hex
    assert (new["org"], new["role"]) == (PHARMACY, "pharmacist")
    # The old key is refused at the door; the new one signs from nonce 1.
    assert_json_error(api.post_json_tx(net.tx(ph_old, 2, "identity", "revoke_actor",
                                              {"key": ph_old.public_hex})), 403)
    assert api.next_nonce(ph_new.public_hex) == 1
    _, st = _submit(net, api, ph_new, "revoke_actor", {"key": ph_new.public_hex, "reason": "self"})
    assert st["result"]["code"] == "ok"
    assert api.get_json(f"/v1/modules/identity/actors/{ph_new.public_hex}")["status"] == "revoked"
    # Revoking twice is a committed rejection.
    _, st = _submit(net, api, padmin, "revoke_actor", {"key": ph_new.public_hex})
    assert st["result"]["code"] == "failed_precondition"

    # Listing queries see it all.
    # (an admin lists its own organisation's actors)
    pharmacists = Api(api.url, padmin).get_json(
        f"/v1/modules/identity/actors?org={PHARMACY}&role=pharmacist")
    keys = {a["key"]: a["status"] for a in pharmacists}
    assert keys[ph_old.public_hex] == "revoked" and keys[ph_new.public_hex] == "revoked"
    assert keys[net.keys["pharmacist-braun"].public_hex] == "active"
    org = api.get_json(f"/v1/modules/identity/orgs/{PHARMACY}")
    assert org["id"] == PHARMACY and padmin.public_hex in str(org)


def test_state_listing_pages(net_api):
    net, api = net_api
    admin = net.keys["hospital-admin"]
    for _ in range(3):
        _submit(net, api, admin, "register_actor",
                {"key": Key().public_hex, "org": HOSPITAL, "role": "patient"})
    everything = api.get_json("/v1/state/identity?prefix=actor/&limit=1000")["entries"]
    assert len(everything) >= 8
    seen, after = [], None
    while True:
        q = "/v1/state/identity?prefix=actor/&limit=3" + (f"&after={after}" if after else "")
        page = api.get_json(q)
        seen += page["entries"]
        if "next_after" not in page:
            break
        after = page["next_after"]
        assert len(page["entries"]) == 3
    assert [e["key"] for e in seen] == [e["key"] for e in everything]
    assert all(e["key"].startswith("actor/") for e in seen)
