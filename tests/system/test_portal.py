"""The web portal in a real browser: the node serves web/dist, and
tests/e2e/portal.mjs drives Debian's chromium (headless, playwright-core)
through it: a patient grants and revokes a consent and sees a provider's
access (and an emergency access, highlighted) appear, writes a review and
sees the reward; the auditor checks an inclusion proof in the browser.
Screenshots of the main pages land in build/test-output/portal/."""
import json
import os
import subprocess
import time

import requests

import cchelpers
from conftest import REPO_ROOT

PORTAL = os.path.join(REPO_ROOT, "web", "dist")
E2E = os.path.join(REPO_ROOT, "tests", "e2e")
OUT = os.path.join(REPO_ROOT, "build", "test-output", "portal")
CONTENT = "CT Thorax: kein Befund."


def test_portal_in_chromium(node_factory, tmp_path):
    assert os.path.isfile(os.path.join(PORTAL, "index.html")), "build the portal first: scripts/build-web"
    assert os.path.isdir(os.path.join(E2E, "node_modules", "playwright-core")), "run scripts/npm-deps"
    net = node_factory.demo("portal", block_interval_ms=20, flush_interval_ms=50, portal_dir=PORTAL)
    node = node_factory.node(net)

    # The portal's files are public; the API is not.
    page = requests.get(node.url + "/", timeout=10)
    assert page.status_code == 200 and "<script" in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert requests.get(node.url + "/v1/info", timeout=10).status_code == 401

    weber, anna = net.keys["dr-weber"], net.keys["patient-anna"]
    r = node.api(weber).post_json("/v1/records?wait=commit", {
        "patient": anna.public_hex, "resource_type": "DiagnosticReport", "category": "imaging",
        "media_type": "text/plain", "content": CONTENT})
    assert r.status_code == 201, r.text
    record = r.json()["record"]
    api = node.api(weber)
    tx = net.tx(weber, api.next_nonce(weber.public_hex), "reviews", "attest",
                {"patient": anna.public_hex, "date": __import__("datetime").date.today().isoformat()})
    assert api.commit(tx)["result"]["code"] == "ok"

    protocol = tmp_path / "protocol.txt"
    protocol.write_text("Resting heart rate in daily life: protocol v1\n")
    r = subprocess.run([node_factory.binary, "research", "register", "rhr-study", "--title", "Resting heart rate",
                        "--protocol", str(protocol), "--primary", "Resting heart rate | /min | 2 days", "--wait",
                        "--node", node.url, "-k", net.key_path("researcher-lang")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr

    # Her watch, and readings that raise an alert once she has a rule: sent
    # by the browser test while her page is open (the alert stream).
    device_file = tmp_path / "watch.key"
    cchelpers.Key().write(str(device_file))
    r = subprocess.run([node_factory.binary, "wearables", "register", "--device-key", str(device_file), "--kind",
                        "smart_watch", "--custodian", "st-marien-hospital", "--wait", "--node", node.url, "--key",
                        net.key_path("patient-anna")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    start = (int(time.time()) - 3600) * 1000
    readings = tmp_path / "readings.csv"
    readings.write_text("time,metric,value\n" + "".join(f"{start + i * 60000},heart_rate,130\n" for i in range(15)))
    send = [node_factory.binary, "wearables", "send", "--device-key", str(device_file), "--file", str(readings),
            "--wait", "--node", node.url, "--key", net.key_path("patient-anna")]

    keys = {}
    for name in ("patient-anna", "dr-weber", "auditor-vogel"):
        with open(net.key_path(name)) as f:
            keys[name] = {"file": f.read(), "public": net.keys[name].public_hex}
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"url": node.url + "/", "keys": keys, "record": record, "record_content": CONTENT,
                                    "visit": tx.id[:32], "study": "rhr-study", "out": OUT,
                                    "send_readings": send}))
    run = subprocess.run(["node", os.path.join(E2E, "portal.mjs"), str(scenario)], capture_output=True, text=True,
                         timeout=300, cwd=E2E)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    for shot in ("home", "patient", "provider", "access-log", "tokens", "reviews", "explorer", "proof"):
        with open(os.path.join(OUT, shot + ".png"), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", shot


def test_portal_code_checks_node_proofs_and_encodes_payloads_alike(node_factory, tmp_path):
    """web/src/proof.js and tx.js (the code the browser runs) under node:
    proofs of every position in a block of seven transactions verify, tampered
    ones do not, and canonical JSON matches the node's rules."""
    net = node_factory.demo("portal-proofs", block_interval_ms=200)
    node = node_factory.node(net)
    admin = net.keys["hospital-admin"]
    api = node.api(admin)
    nonce = api.next_nonce(admin.public_hex)
    txs = [net.tx(admin, nonce + i, "identity", "register_actor",
                  {"key": cchelpers.Key().public_hex, "org": "st-marien-hospital", "role": "patient"})
           for i in range(7)]
    r = api.post_batch([t.raw for t in txs])
    assert r.status_code == 202 and r.json()["accepted"] == 7, r.text
    for t in txs:
        api.wait_committed(t.id)
    auditor = node.api(net.keys["auditor-vogel"])
    proofs = [auditor.get_json(f"/v1/proofs/{t.id}") for t in txs]
    assert max(p["count"] for p in proofs) > 2, "the batch should share a block"
    # Keys sort by their UTF-8 bytes (U+FB01 before U+1F600, unlike UTF-16).
    payloads = [{"b": 1, "a": [True, None, -5], "ä": "Grüße \"x\"\n\t\u0001/", "z": {"y": 9007199254740991}},
                {"\U0001F600": "\U0001F489", "\ufb01": 1, "": 0}]
    data = {"proofs": proofs,
            "payloads": [{"value": p, "canonical": cchelpers.canonical_json(p).decode()} for p in payloads]}
    f = tmp_path / "input.json"
    f.write_text(json.dumps(data))
    run = subprocess.run(["node", os.path.join(E2E, "portal_crypto.mjs"), str(f)], capture_output=True, text=True,
                         timeout=60, cwd=E2E)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok  ") == 7 * 5 - sum(1 for p in proofs if not p["path"]) + len(payloads) + 1


def test_pharmacy_scan_and_shipment_curve_in_chromium(node_factory, cli, tmp_path):
    net = node_factory.demo("portal-supply", block_interval_ms=20, portal_dir=PORTAL)
    node = node_factory.node(net)

    def run(signer, *args):
        r = cli.run(*args, "--node", node.url, "-k", net.key_path(signer))
        assert r.returncode == 0, f"{args}: {r.stdout} {r.stderr}"
        return r

    # Two packs of the demo manufacturer (GS1 prefix 4012345) at the pharmacy; one dispensed.
    codes = [f"(01)04012345000016(17)301231(10)B1(21)S{i}" for i in (1, 2)]
    run("qp-hartmann", "supply", "commission", "--code", codes[0], "--code", codes[1], "--code", codes[0][:-1] + "3",
        "--wait")
    run("qp-hartmann", "supply", "transfer", *codes, "--to", "apotheke-am-markt", "--transfer", "a" * 32, "--wait")
    run("pharmacist-braun", "supply", "accept", "a" * 32, "--wait")
    run("pharmacist-braun", "supply", "dispense", codes[1], "--wait")
    pngs, texts = [], []
    for i, code in enumerate(codes):
        png = tmp_path / f"label-{i}.png"
        r = cli.run("supply", "label", code, "--png", png)
        assert r.returncode == 0, r.stderr
        # What the label carries, read by an independent decoder (zbar).
        z = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
        assert z.returncode == 0, z.stderr
        pngs.append(str(png))
        texts.append(z.stdout.strip())

    # A shipment of a third pack whose logger saw 20 minutes at 11.5 °C in a 2-8 °C band.
    shipment = "0123456789abcdef"
    logger = net.keys["logger-1"].public_hex
    run("qp-hartmann", "coldchain", "create", "--shipment", shipment, "--carrier", "kuehl-logistik",
        "--to", "apotheke-am-markt", "--route", "Marburg -> Berlin", "--pack", codes[0][:-1] + "3", "--logger", logger,
        "--low", "2", "--high", "8",
        "--max-excursion", "60", "--wait")
    t0 = (int(__import__("time").time()) - 3 * 3600) * 1000
    csv = tmp_path / "readings.csv"
    csv.write_text("".join(f"{t0 + i * 60_000},{11.5 if 50 <= i < 70 else 5.0}\n" for i in range(120)))
    run("logger-1", "coldchain", "send", shipment, "--file", csv, "--wait")
    run("driver-petersen", "coldchain", "arrive", shipment, "--wait")
    ship = node.api(net.keys["pharmacist-braun"]).get_json(f"/v1/modules/coldchain/shipments/{shipment}")
    mkt = ship["loggers"][0]["mkt"]
    assert ship["loggers"][0]["excursions"], ship

    keys = {}
    for name in ("pharmacist-braun",):
        with open(net.key_path(name)) as f:
            keys[name] = {"file": f.read(), "public": net.keys[name].public_hex}
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({
        "url": node.url + "/", "keys": keys, "out": OUT, "authentic_png": pngs[0], "authentic_code": texts[0],
        "dispensed_png": pngs[1], "unknown_code": "(01)04012345000016(17)301231(10)B1(21)NOPE",
        "shipment": shipment, "mkt_text": f"{mkt / 100:.2f} °C"}))
    run_ = subprocess.run(["node", os.path.join(E2E, "supply.mjs"), str(scenario)], capture_output=True, text=True,
                          timeout=300, cwd=E2E)
    print(run_.stdout)
    assert run_.returncode == 0, run_.stdout + run_.stderr
    decided = node.api(net.keys["pharmacist-braun"]).get_json(f"/v1/modules/coldchain/shipments/{shipment}")
    assert decided["decision"]["decision"] == "reject"
    for shot in ("pharmacy-authentic", "pharmacy-alarm", "shipment"):
        with open(os.path.join(OUT, shot + ".png"), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", shot
