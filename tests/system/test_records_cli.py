"""The records story through the CLI, on the demo consortium: publish,
grant, fetch, refusals with a message and a non-zero exit, emergency
access, the access log (JSON and FHIR), revocation and erasure."""
import json
import time

import pytest

import fhircheck

RECORD_SUBCOMMANDS = ["publish", "grant", "revoke", "request", "decline", "emergency", "fetch", "erase", "show",
                      "list", "consents", "access-log", "requests"]


@pytest.mark.parametrize("sub", [[]] + [[s] for s in RECORD_SUBCOMMANDS], ids=lambda s: "-".join(s) or "records")
def test_records_help(cli, sub):
    r = cli.run("records", *sub, "--help", timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Usage:" in r.stdout and "--help" in r.stdout


def wait_until(fn, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_records_through_the_cli(cli, node_factory, tmp_path):
    net = node_factory.demo("records-cli")
    node = node_factory.node(net)
    k = {name: net.key_path(name) for name in net.keys}
    pub = {name: key.public_hex for name, key in net.keys.items()}

    def run(who, *args):
        return cli.run("records", *args, "--node", node.url, "--key", k[who])

    def ok(who, *args):
        r = run(who, *args)
        assert r.returncode == 0, f"records {' '.join(args)} -> {r.returncode}\n{r.stderr}"
        return r

    report = tmp_path / "ct.txt"
    report.write_text("CT thorax: small apical pneumothorax on the right.\n")
    ct = json.loads(ok("dr-weber", "publish", "--patient", pub["patient-anna"], "--type", "DiagnosticReport",
                       "--category", "imaging", "--file", report, "--wait").stdout)
    assert ct["status"] == "committed"
    scan = tmp_path / "scan.bin"
    scan.write_bytes(bytes(range(256)) * 4)  # not text: sent as base64
    img = json.loads(ok("dr-weber", "publish", "--patient", pub["patient-anna"], "--type", "Media",
                        "--category", "imaging", "--file", scan, "--media-type", "application/octet-stream",
                        "--wait").stdout)

    # Refused before a consent: a message on stderr, a non-zero exit, no content.
    r = run("dr-koch", "fetch", ct["record"], "--purpose", "treatment")
    assert r.returncode != 0 and "HTTP 403" in r.stderr and r.stdout == ""
    r = run("patient-anna", "grant", "--grantee", pub["dr-koch"], "--category", "imaging",
            "--purpose", "treatment", "--until", "next week")
    assert r.returncode != 0 and "--until" in r.stderr
    grant = json.loads(ok("patient-anna", "grant", "--grantee", pub["dr-koch"], "--category", "imaging",
                          "--purpose", "treatment", "--until", "+30d", "--wait").stdout)
    assert grant["result"]["code"] == "ok"
    r = ok("dr-koch", "fetch", ct["record"], "--purpose", "treatment")
    assert r.stdout == report.read_text()
    assert "under consent " + grant["id"] in r.stderr
    out = tmp_path / "scan.out"
    ok("dr-koch", "fetch", img["record"], "--purpose", "treatment", "--out", out)
    assert out.read_bytes() == scan.read_bytes()
    assert run("researcher-lang", "fetch", ct["record"], "--purpose", "research").returncode != 0

    ok("dr-yilmaz", "emergency", "--patient", pub["patient-anna"], "--reason", "collapsed in the waiting room",
       "--wait")
    assert ok("dr-yilmaz", "fetch", ct["record"], "--purpose", "emergency").stderr.startswith("access: emergency")

    # The patient's view (their own key is the default patient).
    records = json.loads(ok("patient-anna", "list").stdout)["records"]
    assert {r["id"] for r in records} == {ct["record"], img["record"]}
    consents = json.loads(ok("patient-anna", "consents").stdout)["consents"]
    assert {c["purpose"] for c in consents} == {"treatment", "emergency"}
    log = wait_until(lambda: (lambda e: e if len(e) >= 5 else None)(
        json.loads(ok("patient-anna", "access-log").stdout)["access"]), "five access entries")
    assert {(e["reader"], e["outcome"], e["emergency"]) for e in log} == {
        (pub["dr-koch"], "denied", False), (pub["dr-koch"], "allowed", False),
        (pub["researcher-lang"], "denied", False), (pub["dr-yilmaz"], "allowed", True)}
    fhircheck.assert_valid(json.loads(ok("patient-anna", "access-log", "--fhir").stdout))
    fhircheck.assert_valid(json.loads(ok("patient-anna", "consents", "--fhir").stdout))
    fhircheck.assert_valid(json.loads(ok("patient-anna", "show", ct["record"], "--fhir").stdout))
    # Another actor cannot list the patient's log.
    assert run("dr-koch", "access-log", "--patient", pub["patient-anna"]).returncode != 0

    ok("patient-anna", "revoke", grant["id"], "--wait")
    r = run("dr-koch", "fetch", ct["record"], "--purpose", "treatment")
    assert r.returncode != 0 and "revoked" in r.stderr
    r = run("dr-koch", "erase", ct["record"])
    assert r.returncode != 0 and "HTTP 403" in r.stderr
    receipt = json.loads(ok("patient-anna", "erase", ct["record"], "--wait").stdout)
    assert receipt["receipt_committed"] is True
    r = run("patient-anna", "fetch", ct["record"])
    assert r.returncode != 0 and "HTTP 410" in r.stderr
    assert json.loads(ok("patient-anna", "show", ct["record"]).stdout)["status"] == "erased"


def test_access_requests_through_the_cli(cli, node_factory):
    """A provider asks; the patient sees the request, grants it (the consent
    names the request), and the provider reads; a second request is
    declined; a third while one is open is refused."""
    net = node_factory.demo("records-requests", block_interval_ms=20)
    node = node_factory.node(net)
    k = {name: net.key_path(name) for name in net.keys}
    anna, koch = net.keys["patient-anna"].public_hex, net.keys["dr-koch"].public_hex

    def run(who, *args):
        return cli.run("records", *args, "--node", node.url, "--key", k[who])

    def ok(who, *args):
        r = run(who, *args)
        assert r.returncode == 0, f"records {' '.join(args)} -> {r.returncode}\n{r.stdout}{r.stderr}"
        return json.loads(r.stdout)

    rec = ok("dr-weber", "publish", "--patient", anna, "--type", "Observation", "--category", "lab", "--text",
             "HbA1c 5.4 %", "--wait")
    asked = ok("dr-koch", "request", "--patient", anna, "--category", "lab", "--purpose", "treatment",
               "--reason", "Hausärztliche Kontrolle", "--wait")
    assert asked["result"]["code"] == "ok"
    qid = asked["id"][:32]
    r = run("dr-koch", "request", "--patient", anna, "--category", "imaging", "--purpose", "treatment",
            "--reason", "noch einmal", "--wait")
    assert r.returncode == 1 and "still open" in r.stdout
    requests = ok("patient-anna", "requests")["requests"]
    assert [(q["id"], q["provider"], q["status"], q["reason"]) for q in requests] == [
        (qid, koch, "pending", "Hausärztliche Kontrolle")]
    assert run("dr-koch", "fetch", rec["record"], "--purpose", "treatment").returncode != 0
    ok("patient-anna", "grant", "--grantee", koch, "--category", "lab", "--purpose", "treatment", "--until", "+7d",
       "--request", qid, "--wait")
    assert ok("patient-anna", "requests")["requests"][0]["status"] == "granted"
    r = run("dr-koch", "fetch", rec["record"], "--purpose", "treatment")
    assert r.returncode == 0 and r.stdout == "HbA1c 5.4 %", r.stderr
    # The provider follows its request; another provider may not.
    assert node.api(net.keys["dr-koch"]).get_json(f"/v1/modules/records/requests/{qid}")["status"] == "granted"
    assert node.api(net.keys["dr-yilmaz"]).get(f"/v1/modules/records/requests/{qid}").status_code == 403

    second = ok("dr-koch", "request", "--patient", anna, "--category", "imaging", "--purpose", "treatment",
                "--reason", "Röntgen", "--wait")["id"][:32]
    ok("patient-anna", "decline", second, "--wait")
    assert {q["id"]: q["status"] for q in ok("patient-anna", "requests")["requests"]} == {
        qid: "granted", second: "declined"}
    r = run("patient-anna", "decline", second, "--wait")
    assert r.returncode == 1 and "already declined" in r.stdout
