"""Records, consent, the gatekeeper and the right to erasure (issue 4): the
whole story against a real node, on the embedded SQLite store and on
PostgreSQL.

A hospital stores a CT report and a medication list; the patient grants a GP
"imaging" for "treatment"; the GP reads the CT report; a researcher, the GP
for the medication list, an expired and a revoked consent are refused; an
emergency physician reads with emergency access; the patient sees every
access (JSON and FHIR AuditEvent); the patient has the CT report erased; the
chain still verifies and nothing of the record is left in the node's files.
"""
import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import time

import pytest

import fhircheck
from cchelpers import wait_for
from cchelpers import assert_json_error

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOSPITAL = "st-marien-hospital"
# Personal data that must never reach the chain in clear.
NAME = "Annegret Quastenberg-" + secrets.token_hex(4)
NOTE = "NOTE-suspected-pneumothorax-" + secrets.token_hex(4)
CT_REPORT = f"CT thorax of {NAME}, born 1961-04-12.\nFindings: {NOTE}.\n" + "x" * 3000
MED_MARK = "MED-Ramipril-5mg-" + secrets.token_hex(4)
MEDS = f"Medication list of {NAME}: {MED_MARK} once daily."


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server: $CARECHAIN_TEST_PG (./test starts one), else a
    throwaway cluster started here."""
    conninfo = os.environ.get("CARECHAIN_TEST_PG")
    started = None
    if not conninfo:
        # Under /tmp itself: the server runs as the postgres user when we are
        # root, and pytest's own temp folders are closed to other users.
        started = tempfile.mkdtemp(prefix="carechain-pg-")
        r = subprocess.run([os.path.join(REPO_ROOT, "scripts", "pg-test-cluster"), "start", started],
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
        conninfo = r.stdout.strip()
    yield conninfo
    if started:
        subprocess.run([os.path.join(REPO_ROOT, "scripts", "pg-test-cluster"), "stop", started],
                       capture_output=True, timeout=120)


def psql(conninfo, sql):
    r = subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request):
    if request.param == "sqlite":
        return ("sqlite", None)
    conninfo = request.getfixturevalue("postgres")
    schema = "t" + secrets.token_hex(6)
    psql(conninfo, f"CREATE SCHEMA {schema}")
    return ("postgres", f"{conninfo} options='-csearch_path={schema}'")


@pytest.fixture
def story(node_factory, engine):
    kind, conninfo = engine
    net = node_factory.custom(
        "records",
        orgs=[(HOSPITAL, ["hospital-admin"]), ("praxis-koch", ["practice-admin"]),
              ("institut-forschung", ["institute-admin"])],
        actors=[("dr-weber", HOSPITAL, "provider"), ("dr-koch", "praxis-koch", "provider"),
                ("dr-yilmaz", HOSPITAL, "provider"), ("researcher-lang", "institut-forschung", "researcher"),
                ("patient-anna", HOSPITAL, "patient"), ("auditor", HOSPITAL, "auditor")],
        offchain_engine=kind, postgres=conninfo, flush_interval_ms=50)
    node = node_factory.node(net)
    return net, node, kind, conninfo


class Actors:
    def __init__(self, net, node):
        self.net, self.node = net, node
        self.api = {name: node.api(net.keys[name]) for name in net.keys}
        self.nonce = {}

    def tx(self, name, action, payload, expect="ok"):
        key = self.net.keys[name]
        n = self.nonce.get(name) or self.api[name].next_nonce(key.public_hex)
        self.nonce[name] = n + 1
        tx = self.net.tx(key, n, "records", action, payload)
        st = self.api[name].commit(tx)
        assert st["result"]["code"] == expect, st
        return tx.id


def fetch(api, rid, purpose="treatment"):
    return api.get(f"/v1/records/{rid}/content" + (f"?purpose={purpose}" if purpose else ""))


def test_records_story(story, cli):
    net, node, kind, conninfo = story
    a = Actors(net, node)
    anna = net.keys["patient-anna"].public_hex
    now_ms = int(time.time() * 1000)

    # 1. The hospital stores two records and publishes their pointers.
    r = a.api["dr-weber"].post_json("/v1/records?wait=commit", {
        "patient": anna, "resource_type": "DiagnosticReport", "category": "imaging", "content": CT_REPORT})
    assert r.status_code == 201, r.text
    ct = r.json()
    assert ct["status"] == "committed" and ct["custodian"] == HOSPITAL
    r = a.api["dr-weber"].post_json("/v1/records?wait=commit", {
        "patient": anna, "resource_type": "MedicationStatement", "category": "medication", "content": MEDS,
        "media_type": "text/plain"})
    assert r.status_code == 201, r.text
    meds = r.json()
    pointer = a.api["patient-anna"].get_json(f"/v1/records/{ct['record']}")
    assert pointer["patient"] == anna and pointer["category"] == "imaging"
    assert pointer["content_hash"] == ct["content_hash"]
    # The hash is salted: it cannot be tested against a guessed content.
    assert hashlib.blake2b(CT_REPORT.encode(), digest_size=32).hexdigest() != pointer["content_hash"]
    assert hashlib.sha256(CT_REPORT.encode()).hexdigest() != pointer["content_hash"]
    # Only the custodian's providers store records; bad input is refused.
    r = a.api["dr-koch"].post_json("/v1/records", {"patient": anna, "resource_type": "Observation",
                                                   "category": "lab", "content": "x"})
    assert_json_error(r, 403)
    r = a.api["dr-weber"].post_json("/v1/records", {"patient": anna, "resource_type": "lowercase",
                                                    "category": "lab", "content": "x"})
    assert_json_error(r, 400, message_contains="resource_type")
    r = a.api["dr-weber"].post_json("/v1/records", {"patient": net.keys["dr-koch"].public_hex,
                                                    "resource_type": "Observation", "category": "lab",
                                                    "content": "x"})
    assert_json_error(r, 404, message_contains="patient")

    # 2. The patient grants the GP imaging for treatment; the GP reads the CT report.
    assert fetch(a.api["dr-koch"], ct["record"]).status_code == 403
    consent = a.tx("patient-anna", "grant", {"grantee": net.keys["dr-koch"].public_hex,
                                              "categories": ["imaging"], "purpose": "treatment",
                                              "until": now_ms + 3600_000})
    r = fetch(a.api["dr-koch"], ct["record"])
    assert r.status_code == 200, r.text
    assert r.content.decode() == CT_REPORT
    assert r.headers["Carechain-Access"] == "consent" and r.headers["Carechain-Consent"] == consent
    # The patient reads their own records without stating a purpose.
    r = fetch(a.api["patient-anna"], meds["record"], purpose=None)
    assert r.status_code == 200 and r.text == MEDS and r.headers["Carechain-Access"] == "own"

    # 3. Refusals: no consent, another category, another purpose, expired, revoked.
    assert_json_error(fetch(a.api["researcher-lang"], ct["record"], "research"), 403, "no_consent")
    assert_json_error(fetch(a.api["dr-koch"], meds["record"]), 403, "no_consent", "category")
    assert_json_error(fetch(a.api["dr-koch"], ct["record"], "research"), 403, "no_consent", "purpose")
    assert_json_error(fetch(a.api["dr-koch"], ct["record"], "gossip"), 400)
    assert_json_error(fetch(a.api["dr-koch"], ct["record"], None), 400, message_contains="purpose")
    # A consent valid for 3 s: read while it holds (the gatekeeper judges by
    # the node's clock, this machine's), refused once it has passed.
    until = int(time.time() * 1000) + 3000
    short = a.tx("patient-anna", "grant", {"grantee": net.keys["researcher-lang"].public_hex,
                                            "records": [meds["record"]], "purpose": "research",
                                            "until": until})
    r = fetch(a.api["researcher-lang"], meds["record"], "research")
    answered_ms = int(time.time() * 1000)
    assert answered_ms < until, f"granting and reading took {answered_ms - until + 3000} ms, the consent's whole window"
    assert r.status_code == 200 and r.text == MEDS, r.text
    assert r.headers["Carechain-Access"] == "consent" and r.headers["Carechain-Consent"] == short
    r = wait_for(lambda: (lambda x: x if x.status_code == 403 else None)(
        fetch(a.api["researcher-lang"], meds["record"], "research")), "the short consent to expire")
    assert_json_error(r, 403, "no_consent", "expired")
    a.tx("patient-anna", "revoke", {"consent": consent})
    assert_json_error(fetch(a.api["dr-koch"], ct["record"]), 403, "no_consent", "revoked")
    assert_json_error(fetch(a.api["dr-weber"], ct["record"], "emergency"), 403)

    # 4. Emergency access: allowed, flagged.
    a.tx("dr-yilmaz", "emergency_access", {"patient": anna, "reason": "unconscious after a road accident"})
    r = fetch(a.api["dr-yilmaz"], meds["record"], "emergency")
    assert r.status_code == 200 and r.text == MEDS
    assert r.headers["Carechain-Access"] == "emergency"

    # 5. The patient sees who accessed what, when and why.
    def log():
        return a.api["patient-anna"].get_json(f"/v1/patients/{anna}/access-log")["access"]
    yilmaz_hex = net.keys["dr-yilmaz"].public_hex
    entries = wait_for(lambda: (lambda e: e if any(x["reader"] == yilmaz_hex for x in e) else None)(log()),
                       "the emergency read in the access log")
    by_reader = {}
    for e in entries:
        by_reader.setdefault(e["reader"], []).append(e)
    koch = by_reader[net.keys["dr-koch"].public_hex]
    assert any(e["outcome"] == "allowed" and e["consent"] == consent and e["purpose"] == "treatment"
               for e in koch)
    assert sum(e["outcome"] == "denied" for e in koch) >= 4
    assert all(e["outcome"] == "denied" for e in by_reader[net.keys["researcher-lang"].public_hex]
               if e["purpose"] == "research" and e["record"] == ct["record"])
    yilmaz = by_reader[net.keys["dr-yilmaz"].public_hex]
    assert [e["emergency"] for e in yilmaz] == [True] and yilmaz[0]["outcome"] == "allowed"
    # Batched: fewer log transactions than entries.
    assert all(e["custodian"] == HOSPITAL and e["at"] >= now_ms for e in entries)
    consents = a.api["patient-anna"].get_json(f"/v1/patients/{anna}/consents")["consents"]
    assert {c["status"] for c in consents if c["id"] == consent} == {"revoked"}
    assert any(c["emergency"] and c["reason"].startswith("unconscious") for c in consents)
    # Nobody else reads the patient's log, but an auditor does.
    assert_json_error(a.api["dr-koch"].get(f"/v1/patients/{anna}/access-log"), 403)
    assert a.api["auditor"].get(f"/v1/patients/{anna}/access-log").status_code == 200
    # FHIR views, checked by an independent validator.
    for what in ("access-log", "consents", "records"):
        bundle = a.api["patient-anna"].get_json(f"/v1/patients/{anna}/{what}?format=fhir")
        assert bundle["resourceType"] == "Bundle" and bundle["entry"], what
        fhircheck.assert_valid(bundle)
    audit = a.api["patient-anna"].get_json(f"/v1/patients/{anna}/access-log?format=fhir")["entry"]
    assert any(x["resource"].get("meta", {}).get("tag", [{}])[0].get("code") == "emergency-access" for x in audit)
    doc = a.api["patient-anna"].get_json(f"/v1/records/{ct['record']}?format=fhir")
    assert doc["resourceType"] == "DocumentReference" and doc["status"] == "current"
    fhircheck.assert_valid(doc)

    # What the store holds of the CT report before erasure (sealed bytes).
    sealed = []
    if kind == "sqlite":
        db = os.path.join(net.data_dir, "offchain", "records.db")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            sealed += list(c.execute("SELECT ciphertext FROM record_content WHERE id = ?", (ct["record"],)).fetchone())
            sealed += list(c.execute("SELECT sealed_key, salt FROM record_keys WHERE id = ?", (ct["record"],)).fetchone())
        # The pointer's hash is BLAKE2b keyed with the salt that only the custodian holds.
        assert hashlib.blake2b(CT_REPORT.encode(), digest_size=32, key=sealed[2]).hexdigest() == pointer["content_hash"]
        assert all(len(s) >= 32 for s in sealed)

    # 6. Erasure: only the patient asks; afterwards nobody is served.
    assert_json_error(a.api["dr-weber"].post(f"/v1/records/{ct['record']}/erasure"), 403)
    # The request takes no body: one with a body is refused and erases nothing.
    assert_json_error(a.api["patient-anna"].post(f"/v1/records/{ct['record']}/erasure", data=b'{"all":true}'),
                      400, "invalid_argument", "takes no body")
    assert a.api["patient-anna"].get(f"/v1/records/{ct['record']}/content").status_code == 200
    r = a.api["patient-anna"].post(f"/v1/records/{ct['record']}/erasure?wait=commit")
    assert r.status_code == 202, r.text
    receipt = r.json()
    assert receipt["receipt_committed"] is True
    st = a.api["auditor"].tx_status(receipt["receipt_tx"])
    assert st["result"]["code"] == "ok" and st["tx"]["action"] == "erase"
    for who, purpose in (("patient-anna", None), ("dr-yilmaz", "emergency"), ("dr-weber", "treatment")):
        assert_json_error(fetch(a.api[who], ct["record"], purpose), 410, "erased")
    assert a.api["patient-anna"].get_json(f"/v1/records/{ct['record']}")["status"] == "erased"
    assert_json_error(a.api["patient-anna"].post(f"/v1/records/{ct['record']}/erasure"), 409)
    # The other record is untouched.
    assert fetch(a.api["patient-anna"], meds["record"], None).text == MEDS

    assert node.stop() == 0
    # The chain verifies end to end (signatures, re-execution, state).
    r = cli.run("verify", "--data", net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr

    # No personal data in clear anywhere in the node's folder, and nothing
    # of the erased record in any form.
    needles = [NAME.encode(), NOTE.encode(), MED_MARK.encode(), CT_REPORT[:40].encode()] + sealed
    found = []
    for root, _, files in os.walk(net.data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                data = fh.read()
            found += [(f, n[:16]) for n in needles if n in data]
    assert not found, found
    if kind == "postgres":
        rid = ct["record"]
        assert psql(conninfo, f"SELECT count(*) FROM record_content WHERE id = '{rid}'") == "0"
        assert psql(conninfo, f"SELECT count(*) FROM record_keys WHERE id = '{rid}'") == "0"
        assert psql(conninfo, f"SELECT count(*) FROM record_content WHERE id = '{meds['record']}'") == "1"


def test_reads_logged_before_a_crash_reach_the_chain_after_restart(node_factory):
    """Access entries wait in the custodian's outbox, not in memory: a kill -9
    before they are sent loses none of them."""
    net = node_factory.custom(
        "crash", orgs=[(HOSPITAL, ["hospital-admin"])],
        actors=[("dr-weber", HOSPITAL, "provider"), ("patient-anna", HOSPITAL, "patient")],
        flush_interval_ms=60000)  # nothing is sent before the crash
    node = node_factory.node(net)
    weber, anna = node.api(net.keys["dr-weber"]), node.api(net.keys["patient-anna"])
    anna_hex = net.keys["patient-anna"].public_hex
    r = weber.post_json("/v1/records?wait=commit", {"patient": anna_hex, "resource_type": "Observation",
                                                    "category": "lab", "content": "HbA1c 6.1 %"})
    assert r.status_code == 201, r.text
    rid = r.json()["record"]
    for _ in range(3):
        assert fetch(anna, rid, None).status_code == 200
    assert_json_error(fetch(weber, rid), 403)
    assert anna.get_json(f"/v1/patients/{anna_hex}/access-log")["access"] == []
    node.kill9()
    node.start()
    anna = node.api(net.keys["patient-anna"])
    # The restarted node sends its outbox at its first flush (60 s away):
    # an erasure request flushes at once, and takes the pending entries along.
    r = anna.post(f"/v1/records/{rid}/erasure?wait=commit")
    assert r.status_code == 202 and r.json()["receipt_committed"], r.text
    log = wait_for(lambda: (lambda e: e if len(e) == 4 else None)(
        anna.get_json(f"/v1/patients/{anna_hex}/access-log")["access"]), "the four entries")
    assert sorted(e["outcome"] for e in log) == ["allowed"] * 3 + ["denied"]
