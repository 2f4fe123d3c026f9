"""A refrigerated shipment through a real node and the CLI: a logger sends
signed batches of readings (kept off chain, anchored by Merkle root), the
node joins excursions across batches and computes the MKT, a release is
refused, the rejected packs verify as rejected in transport; a reading is
proved against its anchor, by the CLI and by an independent Python
implementation of the documented leaf and tree; bad batches change nothing."""
import copy
import json
import math

import pytest
import requests

import cchelpers

GTIN = "09506000134352"
SHIP = "00000000000000c1"
T0 = 1_790_000_000_000  # ms; readings one minute apart
MIN = 60_000


@pytest.fixture
def cold(node_factory):
    net = node_factory.custom(
        "coldchain",
        [("pharma-ag", ["pharma-admin"]), ("grosshandel", ["gh-admin"]), ("kuehl-logistik", ["kl-admin"]),
         ("bfarm", ["bfarm-admin"]), ("apotheke", ["apo-admin"])],
        actors=[("maker", "pharma-ag", "manufacturer"), ("wholesaler", "grosshandel", "wholesaler"),
                ("carrier", "kuehl-logistik", "carrier"), ("logger", "kuehl-logistik", "device"),
                ("logger2", "kuehl-logistik", "device"), ("regulator", "bfarm", "regulator"),
                ("pharmacist", "apotheke", "pharmacist")])
    with open(net.genesis_path) as f:
        g = json.load(f)
    g["orgs"][0]["gs1_prefixes"] = ["9506000"]
    with open(net.genesis_path, "w") as f:
        json.dump(g, f)
    net = cchelpers.Network(net.dir)
    node = node_factory.node(net)
    packs = [{"gtin": GTIN, "serial": s, "batch": "B1", "expiry": "301231"} for s in ("S1", "S2", "S3")]
    assert run(net, node, "maker", "supply", "commission", {"packs": packs})["code"] == "ok"
    return net, node


def run(net, node, signer, module, action, payload):
    key = net.keys[signer]
    api = node.api(key)
    tx = net.tx(key, api.next_nonce(key.public_hex), module, action, payload)
    return api.commit(tx)["result"]


def csv(path, start, celsius):
    lines = ["time,celsius"] + [f"{start + i * MIN},{c}" for i, c in enumerate(celsius)]
    path.write_text("\n".join(lines) + "\n")
    return path


def reference_mkt(celsius, dh_r=10000.0):
    s = sum(math.exp(-dh_r / (c + 273.15)) for c in celsius)
    return dh_r / -math.log(s / len(celsius)) - 273.15


# The documented leaf and tree (docs/modules/coldchain.md), written again here.
def leaf(ship, t, centi):
    data = b"coldchain/reading" + bytes.fromhex(ship) + t.to_bytes(8, "big") + (centi & 0xFFFFFFFF).to_bytes(4, "big")
    return cchelpers.merkle_leaf(data)


def python_anchor(ship, seq, readings, low, high, dh_r=10000):
    """The anchor payload of a batch, computed without the project's code."""
    runs, cur = [], None
    for t, c in readings:
        out = c < low or c > high
        dist = (c - high) if c > high else (low - c)
        if out:
            if cur is None:
                cur = {"from": t, "to": t, "peak": c, "open": True}
            pd = (cur["peak"] - high) if cur["peak"] > high else (low - cur["peak"])
            if dist > pd:
                cur["peak"] = c
            cur["to"] = t
        elif cur is not None:
            cur.update(to=t, open=False)
            runs.append(cur)
            cur = None
    if cur is not None:
        runs.append(cur)
    factor = lambda c: round(1e9 * math.exp(dh_r * (1 / 298.15 - 1 / (273.15 + c / 100))))
    p = {"shipment": ship, "seq": seq, "count": len(readings), "first": readings[0][0], "last": readings[-1][0],
         "root": cchelpers.merkle_root([leaf(ship, t, c) for t, c in readings]).hex(),
         "min": min(c for _, c in readings), "max": max(c for _, c in readings),
         "arrhenius": sum(factor(c) for _, c in readings)}
    if runs:
        p["runs"] = runs
    return p


def post_batch(net, node, signer, payload, readings, sender=None):
    key = net.keys[signer]
    nonce = node.api(key).next_nonce(key.public_hex)  # only the logger (and chain readers) may read it
    api = node.api(net.keys[sender or signer])  # a gateway may carry the logger's batch
    tx = net.tx(key, nonce, "coldchain", "anchor", payload)
    body = {"tx": tx.json, "readings": [{"t": t, "c": c} for t, c in readings]}
    return api.s.post(node.url + "/v1/coldchain/batches?wait=commit", data=json.dumps(body),
                      headers={"Content-Type": "application/json"}, timeout=30)


def create(net, node, cli, **over):
    args = {"--shipment": SHIP, "--carrier": "kuehl-logistik", "--to": "grosshandel", "--route": "Marburg -> Berlin",
            "--logger": net.keys["logger"].public_hex, "--low": "2", "--high": "8", "--max-excursion": "300"}
    args.update(over)
    flat = [x for kv in args.items() for x in kv]
    return cli.run("coldchain", "create", *flat, "--pack", f"(01){GTIN}(21)S1", "--pack", f"(01){GTIN}(21)S2",
                   "--node", node.url, "--key", net.key_path("maker"), "--wait")


def test_a_shipment_with_an_excursion_is_rejected_and_its_packs_say_so(cold, cli, tmp_path):
    net, node = cold
    r = create(net, node, cli)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"]["code"] == "ok"

    def send(*celsius_lists):
        for n, (start, cs) in enumerate(celsius_lists):
            r = cli.run("coldchain", "send", SHIP, "--file", csv(tmp_path / f"r{start}.csv", start, cs),
                        "--node", node.url, "--key", net.key_path("logger"), "--wait")
            assert r.returncode == 0, r.stderr
            assert all(b["result"]["code"] == "ok" for b in json.loads(r.stdout)), r.stdout

    first = [5.0, 5.1, 5.2, 5.3, 5.4, 5.5, 5.6, 5.7, 5.8, 5.9]
    second = [6.0, 7.0, 9.0, 11.5, 10.0, 9.5, 9.0, 8.8, 8.6, 8.5]  # out from minute 12, still out at the end
    third = [12.1, 8.2, 7.9, 6.0]                                     # back in range at minute 22
    send((T0, first), (T0 + 10 * MIN, second), (T0 + 20 * MIN, third))

    ship = node.api(net.keys["wholesaler"]).get_json(f"/v1/modules/coldchain/shipments/{SHIP}")
    (lg,) = ship["loggers"]
    assert lg["batches"] == 3 and lg["count"] == 24
    assert lg["excursions"] == [{"from": T0 + 12 * MIN, "to": T0 + 22 * MIN, "peak": 1210, "open": False}]
    assert lg["excursion_ms"] == 10 * MIN
    assert abs(lg["mkt"] - reference_mkt(first + second + third) * 100) <= 1
    assert ship["assessment"] == {"releasable": False,
                                  "reasons": [f"logger {net.keys['logger'].public_hex[:8]}: 600 s out of range "
                                              "(the product allows 300 s)"]}

    # The curve: every reading, from the node's off-chain store.
    curve = node.api(net.keys["carrier"]).get_json(f"/v1/coldchain/shipments/{SHIP}/curve")
    pts = curve["loggers"][0]["points"]
    assert [p[1] for p in pts] == [round(c * 100) for c in first + second + third]
    assert curve["loggers"][0]["missing_batches"] == [] and curve["low"] == 200 and curve["high"] == 800
    thin = node.api(net.keys["carrier"]).get_json(f"/v1/coldchain/shipments/{SHIP}/curve?max_points=6")
    assert len(thin["loggers"][0]["points"]) <= 6 and max(p[1] for p in thin["loggers"][0]["points"]) == 1210
    r = cli.run("coldchain", "curve", SHIP, "--csv", "--node", node.url, "--key", net.key_path("carrier"))
    assert r.returncode == 0 and r.stdout.splitlines()[1].endswith(f",{T0},5.00"), r.stdout[:300]

    # Arrival by the carrier; a release is refused with the reason; a reject is not.
    def cold_cli(who, *args):
        return cli.run("coldchain", *args, "--node", node.url, "--key", net.key_path(who))
    assert cold_cli("carrier", "arrive", SHIP, "--wait").returncode == 0
    r = cold_cli("wholesaler", "decide", SHIP, "--release", "--reason", "looks fine", "--wait")
    assert r.returncode == 1 and "cannot release" in r.stdout, (r.stdout, r.stderr)
    assert requests.get(node.url + "/v1/packs/check", params={"code": f"(01){GTIN}(21)S1"},
                        timeout=10).json() == {"verdict": "authentic"}
    r = cold_cli("wholesaler", "decide", SHIP, "--reject", "--reason", "10 min above 8 C", "--wait")
    assert r.returncode == 0, r.stderr + r.stdout
    for serial, verdict in (("S1", "rejected_in_transport"), ("S2", "rejected_in_transport"), ("S3", "authentic")):
        got = requests.get(node.url + "/v1/packs/check", params={"code": f"(01){GTIN}(21){serial}"}, timeout=10)
        assert got.json() == {"verdict": verdict}, serial
    ship = node.api(net.keys["regulator"]).get_json(f"/v1/modules/coldchain/shipments/{SHIP}")
    assert ship["status"] == "rejected" and ship["decision"]["reason"] == "10 min above 8 C"
    # A pharmacy outside the shipment reads none of it.
    for path in (f"/v1/modules/coldchain/shipments/{SHIP}", f"/v1/coldchain/shipments/{SHIP}/curve"):
        cchelpers.assert_json_error(node.api(net.keys["pharmacist"]).get(path), 403)


def test_a_reading_is_proved_against_its_anchor(cold, cli, tmp_path):
    net, node = cold
    assert create(net, node, cli).returncode == 0
    readings = [(T0 + i * MIN, 400 + (i * 37) % 300) for i in range(13)]
    # The batch is computed in Python from the docs, not by the project's code.
    payload = python_anchor(SHIP, 1, readings, 200, 800)
    r = post_batch(net, node, "logger", payload, readings, sender="carrier")
    assert r.status_code == 200 and r.json()["result"]["code"] == "ok", r.text

    logger = net.keys["logger"].public_hex
    proof = node.api(net.keys["wholesaler"]).get_json(
        f"/v1/coldchain/shipments/{SHIP}/readings?device={logger}&seq=1&index=11")
    assert proof["reading"] == {"t": readings[11][0], "c": readings[11][1]}
    assert proof["root"] == payload["root"] and proof["count"] == 13
    h = cchelpers.merkle_root_from_path(leaf(SHIP, *readings[11]), 11, 13, [bytes.fromhex(x) for x in proof["path"]])
    assert h.hex() == payload["root"]
    assert proof["anchor"]["status"] == "committed" and proof["anchor"]["tx"]["payload"]["root"] == payload["root"]

    out = tmp_path / "proof.json"
    r = cli.run("coldchain", "prove", SHIP, "--logger", logger, "--seq", "1", "--index", "4", "-o", out,
                "--node", node.url, "--key", net.key_path("wholesaler"))
    assert r.returncode == 0 and json.loads(r.stdout)["verified"] is True, r.stderr
    r = cli.run("coldchain", "verify-reading", out)
    assert r.returncode == 0 and json.loads(r.stdout)["reading"]["c"] == readings[4][1], r.stderr
    # Any change to the reading, the path or the anchor is caught offline.
    saved = json.loads(out.read_text())
    for change, words in ((lambda p: p["reading"].update(c=p["reading"]["c"] + 1), "does not lead to the root"),
                          (lambda p: p.update(index=5), "does not lead to the root"),
                          (lambda p: p["path"].reverse(), "does not lead to the root"),
                          (lambda p: p["anchor"]["tx"]["payload"].update(count=14), "signature is invalid"),
                          (lambda p: p.update(device=net.keys["logger2"].public_hex), "not this logger's")):
        bad = copy.deepcopy(saved)
        change(bad)
        out.write_text(json.dumps(bad))
        r = cli.run("coldchain", "verify-reading", out)
        assert r.returncode != 0 and words in r.stderr, (words, r.stderr)


def test_strangers_read_no_reading_of_a_shipment(cold, cli):
    """A shipment's readings (the proofs, the curve) and its on-chain entry are
    for its sender, carrier and receiver and for regulators and nodes: a
    pharmacy outside it, and an admin of an organisation outside it, are
    refused, also for a shipment that does not exist (no hint whether it
    does)."""
    net, node = cold
    assert create(net, node, cli).returncode == 0
    readings = [(T0 + i * MIN, 400 + i) for i in range(4)]
    r = post_batch(net, node, "logger", python_anchor(SHIP, 1, readings, 200, 800), readings)
    assert r.status_code == 200 and r.json()["result"]["code"] == "ok", r.text
    logger = net.keys["logger"].public_hex

    def paths(ship):
        return [f"/v1/coldchain/shipments/{ship}/readings?device={logger}&seq=1&index=2",
                f"/v1/coldchain/shipments/{ship}/curve", f"/v1/modules/coldchain/shipments/{ship}"]
    for who in ("pharmacist", "apo-admin", "bfarm-admin"):
        for path in paths(SHIP) + paths("00000000000000c2"):
            r = node.api(net.keys[who]).get(path)
            assert r.status_code == 403, f"{who} read {path}: {r.status_code} {r.text[:200]}"
            cchelpers.assert_json_error(r, 403, "permission_denied")
    # The parties and the regulator are served.
    for who in ("maker", "pharma-admin", "carrier", "wholesaler", "regulator"):
        api = node.api(net.keys[who])
        proof = api.get_json(paths(SHIP)[0])
        assert proof["reading"] == {"t": readings[2][0], "c": readings[2][1]}, who
        assert [p[1] for p in api.get_json(paths(SHIP)[1])["loggers"][0]["points"]] == [c for _, c in readings]
        assert api.get_json(paths(SHIP)[2])["loggers"][0]["count"] == 4
    # Only a reader of every shipment learns that one does not exist.
    cchelpers.assert_json_error(node.api(net.keys["regulator"]).get(paths("00000000000000c2")[0]), 404)
    cchelpers.assert_json_error(node.api(net.keys["carrier"]).get(paths("00000000000000c2")[0]), 403)


def test_bad_batches_are_refused_and_change_nothing(cold, cli, tmp_path):
    net, node = cold
    assert create(net, node, cli).returncode == 0
    reader = node.api(net.keys["wholesaler"])

    def batches():
        return reader.get_json(f"/v1/modules/coldchain/shipments/{SHIP}")["loggers"][0]["batches"]

    readings = [(T0 + i * MIN, 500) for i in range(5)]
    good = python_anchor(SHIP, 1, readings, 200, 800)
    # Readings that are not the signed ones, a summary that hides a reading,
    # a malformed body: 400 with the reason, nothing stored or anchored.
    other = [(t, c + 1) for t, c in readings]
    r = post_batch(net, node, "logger", good, other)
    cchelpers.assert_json_error(r, 400)
    assert "do not match the anchor's 'root'" in r.json()["message"]
    r = post_batch(net, node, "logger", good, readings[:4])
    cchelpers.assert_json_error(r, 400)
    bad_order = [readings[1], readings[0]] + readings[2:]
    r = post_batch(net, node, "logger", python_anchor(SHIP, 1, readings, 200, 800), bad_order)
    cchelpers.assert_json_error(r, 400)
    assert "increase strictly" in r.json()["message"]
    r = reader.post_json("/v1/coldchain/batches", {"tx": {}, "readings": [{"t": 1, "c": "warm"}]})
    cchelpers.assert_json_error(r, 400)
    # A tampered signature never reaches the chain.
    key = net.keys["logger"]
    tx = net.tx(key, node.api(key).next_nonce(key.public_hex), "coldchain", "anchor", good).json
    tx["signature"] = ("00" if tx["signature"][:2] != "00" else "11") + tx["signature"][2:]
    r = reader.post_json("/v1/coldchain/batches", {"tx": tx, "readings": [{"t": t, "c": c} for t, c in readings]})
    cchelpers.assert_json_error(r, 400, "invalid_argument", "bad signature")
    # A key that is not the shipment's logger: committed as unauthorized.
    r = post_batch(net, node, "logger2", good, readings)
    assert r.status_code == 200 and r.json()["result"]["code"] == "unauthorized", r.text
    assert batches() == 0
    # The CLI refuses a file with times out of order, and sends nothing.
    f = tmp_path / "bad.csv"
    f.write_text("time,celsius\n2026-11-26T10:01:00Z,5\n2026-11-26T10:00:00Z,5\n")
    r = cli.run("coldchain", "send", SHIP, "--file", f, "--node", node.url, "--key", net.key_path("logger"))
    assert r.returncode != 0 and "line 3" in r.stderr and "increase" in r.stderr, r.stderr
    f.write_text("time,celsius\n2026-11-26T10:00:00Z,five\n")
    r = cli.run("coldchain", "send", SHIP, "--file", f, "--node", node.url, "--key", net.key_path("logger"))
    assert r.returncode != 0 and "not a temperature" in r.stderr, r.stderr
    assert batches() == 0
    # And the good batch still goes through, after all that.
    r = post_batch(net, node, "logger", good, readings)
    assert r.status_code == 200 and r.json()["result"]["code"] == "ok", r.text
    assert batches() == 1
    # Batch 2 may not start before batch 1 ended.
    early = [(T0 + 4 * MIN, 500), (T0 + 9 * MIN, 500)]
    r = post_batch(net, node, "logger", python_anchor(SHIP, 2, early, 200, 800), early)
    assert r.json()["result"]["code"] == "invalid_payload" and "out of order" in r.json()["result"]["detail"]
    assert batches() == 1


@pytest.mark.parametrize("sub", ["create", "send", "arrive", "decide", "show", "curve", "prove", "verify-reading"])
def test_coldchain_help(cli, sub):
    r = cli.run("coldchain", sub, "--help", timeout=30)
    assert r.returncode == 0 and "Usage:" in r.stdout, r.stderr
