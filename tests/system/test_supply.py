"""Medicine packs through a real node: commissioning, transfer, dispensing,
the public pack check a patient's phone calls (unsigned, rate-limited, the
verdict only), counterfeit alarms and who may list them."""
import json
import os
import pytest
import requests

import cchelpers

GTIN = "09506000134352"


@pytest.fixture
def supply_node(node_factory):
    net = node_factory.custom(
        "supply",
        [("pharma-ag", ["pharma-admin"]), ("apotheke", ["apo-admin"]), ("bfarm", ["bfarm-admin"])],
        actors=[("maker", "pharma-ag", "manufacturer"), ("pharmacist", "apotheke", "pharmacist"),
                ("regulator", "bfarm", "regulator")])
    with open(net.genesis_path) as f:
        g = json.load(f)
    g["orgs"][0]["gs1_prefixes"] = ["9506000"]
    with open(net.genesis_path, "w") as f:
        json.dump(g, f)
    net = cchelpers.Network(net.dir)
    node = node_factory.node(net)
    return net, node


def run(net, node, signer, action, payload):
    key = net.keys[signer]
    api = node.api(key)
    tx = net.tx(key, api.next_nonce(key.public_hex), "supply", action, payload)
    return api.commit(tx)["result"]


def public_check(node, code):
    # No signature, no session: what a phone sends.
    return requests.get(node.url + "/v1/packs/check", params={"code": code}, timeout=10)


def test_pack_journey_public_check_and_alarms(supply_node):
    net, node = supply_node
    packs = [{"gtin": GTIN, "serial": s, "batch": "B1", "expiry": "301231"} for s in ("S1", "S2")]
    assert run(net, node, "maker", "commission", {"packs": packs}) == {"code": "ok", "detail": ""}
    forms = ["(01)09506000134352(17)301231(10)B1(21)S1",
             "]d2" + "0109506000134352" + "17301231" + "10B1" + "\x1d" + "21S1",
             "https://id.gs1.org/01/09506000134352/10/B1/21/S1?17=301231"]
    for code in forms:
        r = public_check(node, code)
        assert r.status_code == 200, r.text
        assert r.json() == {"verdict": "authentic"}, code  # the verdict only
    # To the pharmacy, dispensed.
    t = "ab" * 16
    ref = {"gtin": GTIN, "serial": "S1"}
    assert run(net, node, "maker", "transfer", {"transfer": t, "to": "apotheke", "packs": [ref]})["code"] == "ok"
    assert run(net, node, "pharmacist", "accept", {"transfer": t})["code"] == "ok"
    assert run(net, node, "pharmacist", "dispense", ref)["code"] == "ok"
    assert public_check(node, forms[0]).json() == {"verdict": "already_dispensed"}
    assert public_check(node, "(01)09506000134352(21)NOPE").json() == {"verdict": "unknown_serial"}
    assert public_check(node, "(01)04006381333931(21)S1").json() == {"verdict": "unknown_product"}
    # A code from a pack that was dispensed, scanned again at the pharmacy.
    res = run(net, node, "pharmacist", "verify", ref)
    assert res["code"] == "ok" and "alarm: verified_after_dispensing" in res["detail"], res
    # Dispensing it again: an alarm, committed.
    res = run(net, node, "pharmacist", "dispense", ref)
    assert res["detail"] == "alarm: dispensed_twice", res
    # Who lists alarms: the regulator; the manufacturer its own only.
    alarms = node.api(net.keys["regulator"]).get_json("/v1/modules/supply/alarms")["alarms"]
    assert [a["kind"] for a in alarms] == ["verified_after_dispensing", "dispensed_twice"]
    own = node.api(net.keys["maker"]).get_json("/v1/modules/supply/alarms?org=pharma-ag")["alarms"]
    assert len(own) == 2
    cchelpers.assert_json_error(node.api(net.keys["maker"]).get("/v1/modules/supply/alarms"), 403)
    cchelpers.assert_json_error(node.api(net.keys["pharmacist"]).get("/v1/modules/supply/alarms"), 403)
    # The pharmacy sees the pack's history (signed), the public never does.
    path = "/v1/modules/supply/packs/" + GTIN + "/S1"
    pack = node.api(net.keys["pharmacist"]).get_json(path)
    assert [e["type"] for e in pack["history"]][:4] == ["commissioned", "transferred", "dispensed", "verified"]
    assert pack["verdict"] == "already_dispensed"
    assert requests.get(node.url + path, timeout=10).status_code == 401


def test_public_check_refuses_bad_codes_and_is_rate_limited(supply_node):
    net, node = supply_node
    body = cchelpers.assert_json_error(public_check(node, "(01)09506000134353(21)S1"), 400)
    assert "check digit" in body["message"]
    cchelpers.assert_json_error(requests.get(node.url + "/v1/packs/check", timeout=10), 400,
                                message_contains="code")
    cchelpers.assert_json_error(public_check(node, "(01)09506000134352(17)301332(21)S1"), 400,
                                message_contains="month 13")
    # 10 checks/s per address with a burst of 20: a tight loop of 60 meets 429.
    statuses = [public_check(node, "(01)09506000134352(21)S9").status_code for _ in range(60)]
    assert 429 in statuses and statuses[0] != 429
    refused = next(r for r in (public_check(node, "(01)09506000134352(21)S9") for _ in range(5))
                   if r.status_code == 429)
    cchelpers.assert_json_error(refused, 429, code="rate_limited")
    metrics = node.api(net.keys["node"]).get("/metrics").text
    assert 'carechain_http_refused_total{reason="rate_pack_check"}' in metrics
    assert 'carechain_pack_checks_total{verdict="unknown_product"}' in metrics


def test_cli_checks_and_shows_a_pack(supply_node, cli):
    net, node = supply_node
    packs = [{"gtin": GTIN, "serial": "A/1", "batch": "B1", "expiry": "301231"}]
    assert run(net, node, "maker", "commission", {"packs": packs})["code"] == "ok"
    dl = "https://id.gs1.org/01/09506000134352/10/B1/21/A%2F1?17=301231"
    assert cli.ok_json("supply", "check", dl, "--node", node.url) == {"verdict": "authentic"}
    assert cli.ok_json("supply", "check", "(01)09506000134352(21)A/2", "--node", node.url) == \
        {"verdict": "unknown_serial"}
    pack = cli.ok_json("supply", "show", "(01)09506000134352(21)A/1", "--node", node.url,
                       "-k", net.key_path("maker"))
    assert pack["serial"] == "A/1" and pack["owner"] == "pharma-ag"
    assert [e["type"] for e in pack["history"]] == ["commissioned"]
    # A malformed code: the reason, a non-zero exit, no request needed.
    r = cli.run("supply", "check", "(01)09506000134353(21)A/1", "--node", node.url)
    assert r.returncode != 0 and "check digit" in r.stderr
    # show is signed: a pharmacist may, a stranger's key may not.
    stranger = os.path.join(net.dir, "stranger.key")
    cchelpers.Key().write(stranger)
    r = cli.run("supply", "show", "(01)09506000134352(21)A/1", "--node", node.url, "-k", stranger)
    assert r.returncode != 0 and ("401" in r.stderr or "403" in r.stderr), r.stderr
