"""The research registry through a real node and the CLI: two researchers
register the same protocol and the first block wins priority; results are
committed as a hash and disclosed, a faithful disclosure raises no flag and
a switched one is flagged exactly; wrong openings and outsiders are refused
and change nothing; a registration (and a commitment) is verified offline
from a saved inclusion proof, and a tampered protocol file is detected.
The protocol, outcome and commitment hashes are recomputed here from
docs/modules/research.md."""
import hashlib
import json

import pytest

import cchelpers

MORTALITY = "All-cause mortality | proportion of patients | 28 days"
VENT_FREE = "Ventilator-free days | days | 28 days"
STAY = "Length of hospital stay | days"


@pytest.fixture
def reg(node_factory, tmp_path):
    net = node_factory.custom(
        "research",
        [("uni-a", ["a-admin"]), ("uni-b", ["b-admin"]), ("hospital", ["h-admin"])],
        actors=[("alice", "uni-a", "researcher"), ("anna", "uni-a", "researcher"),
                ("bob", "uni-b", "researcher"), ("doctor", "hospital", "provider")])
    node = node_factory.node(net)
    protocol = tmp_path / "protocol.txt"
    protocol.write_text("Early prone positioning in ARDS: protocol v1.0\nRandomised, 1:1, 400 patients.\n")
    return net, node, protocol


def research(cli, net, node, signer, *args):
    """`carechain research ...` signed by `signer`; the completed process."""
    return cli.run("research", *args, "--node", node.url, "-k", net.key_path(signer))


def ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return json.loads(r.stdout)


def outcome_args(flag, outcomes):
    out = []
    for o in outcomes:
        out += [flag, o]
    return out


def register(cli, net, node, signer, study, protocol, primary=(MORTALITY,), secondary=(VENT_FREE, STAY)):
    return research(cli, net, node, signer, "register", study, "--title", "Prone positioning in ARDS",
                    "--protocol", protocol, *outcome_args("--primary", primary),
                    *outcome_args("--secondary", secondary), "--wait")


def commit(cli, net, node, signer, study, results, opening, primary, secondary):
    return research(cli, net, node, signer, "commit", study, "--results", results, "--opening", opening,
                    *outcome_args("--primary", primary), *outcome_args("--secondary", secondary), "--wait")


def show(cli, net, node, study, signer="doctor"):
    return ok(research(cli, net, node, signer, "show", study))


# The documented canonical form and hashes, written again here.
def canonical(text):
    parts = [" ".join(p.split()).lower() for p in text.split("|")] + ["", ""]
    return "\n".join(parts[:3])


def sha256(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def commitment(study, salt, results_hash, primary, secondary):
    text = f"carechain/research/results/v1\n{study}\n{salt}\n{results_hash}\n"
    text += "".join(f"primary {sha256(canonical(o))}\n" for o in primary)
    text += "".join(f"secondary {sha256(canonical(o))}\n" for o in secondary)
    return sha256(text)


def test_the_first_registration_of_a_protocol_has_priority(reg, cli):
    net, node, protocol = reg
    a = ok(register(cli, net, node, "alice", "prone-a", protocol))
    assert a["result"]["code"] == "ok", a
    assert a["protocol_hash"] == sha256(protocol.read_bytes())  # what sha256sum prints
    b = ok(register(cli, net, node, "bob", "prone-b", protocol))
    assert b["result"]["code"] == "ok", b
    assert b["height"] > a["height"]

    first, copy = show(cli, net, node, "prone-a"), show(cli, net, node, "prone-b")
    assert first["priority"] == {"first": True, "rank": 1}
    assert first["height"] == a["height"] and first["registered_at"] == a["block_time_ms"]
    assert [o["canonical"] for o in first["primary"]] == [canonical(MORTALITY)]
    assert [o["hash"] for o in first["secondary"]] == [sha256(canonical(VENT_FREE)), sha256(canonical(STAY))]
    assert copy["priority"]["first"] is False
    assert copy["priority"]["first_study"] == "prone-a"
    assert copy["priority"]["first_org"] == "uni-a"
    assert copy["priority"]["first_height"] == a["height"]

    pr = ok(research(cli, net, node, "bob", "priority", "--protocol", protocol))
    assert [(c["study"], c["org"], c["rank"]) for c in pr["claims"]] == [("prone-a", "uni-a", 1), ("prone-b", "uni-b", 2)]
    assert pr["first"]["height"] < pr["claims"][1]["height"]

    # A public registry: any active actor reads it; a stranger's key does not.
    api = node.api(net.keys["doctor"])
    assert api.get_json("/v1/modules/research/studies")["studies"][0]["study"] == "prone-a"
    cchelpers.assert_json_error(node.api(cchelpers.Key()).get("/v1/modules/research/studies/prone-a"), 403,
                                "permission_denied")
    # Only researchers register.
    r = register(cli, net, node, "doctor", "by-a-doctor", protocol)
    assert r.returncode == 1 and json.loads(r.stdout)["result"]["code"] == "unauthorized", r.stdout


def test_disclosures_are_compared_with_the_registered_outcomes(reg, cli, tmp_path):
    net, node, protocol = reg
    for study in ("faithful", "switched"):
        ok(register(cli, net, node, "alice", study, protocol))
    paper = tmp_path / "paper.txt"
    paper.write_text("Results: mortality 31% vs 33%; ventilator-free days 12 vs 11.\n")

    # Reported as registered (another order, another capitalisation): no flag.
    o1 = tmp_path / "faithful.opening.json"
    c = ok(commit(cli, net, node, "alice", "faithful", paper, o1, [MORTALITY],
                  [STAY, "ventilator-free DAYS | days | 28 days"]))
    assert c["result"]["code"] == "ok", c
    opening = json.loads(o1.read_text())
    assert opening["results_hash"] == sha256(paper.read_bytes())
    assert c["commitment"] == commitment("faithful", opening["salt"], opening["results_hash"], [MORTALITY],
                                         [STAY, "ventilator-free DAYS | days | 28 days"])
    d = ok(research(cli, net, node, "alice", "disclose", "faithful", "--opening", o1, "--wait"))
    assert d["result"]["code"] == "ok", d
    s = show(cli, net, node, "faithful")
    assert s["status"] == "results_disclosed" and s["outcome_switching"] is False
    disclosure = s["results"][0]["disclosure"]
    assert disclosure["flags"] == [] and disclosure["switched"] is False
    assert disclosure["salt"] == opening["salt"] and disclosure["results_hash"] == opening["results_hash"]

    # The primary switched to a registered secondary, the old primary demoted,
    # length of stay dropped: flagged exactly, on chain.
    o2 = tmp_path / "switched.opening.json"
    ok(commit(cli, net, node, "alice", "switched", paper, o2, [VENT_FREE], [MORTALITY]))
    ok(research(cli, net, node, "alice", "disclose", "switched", "--opening", o2, "--wait"))
    s = show(cli, net, node, "switched", signer="bob")
    assert s["outcome_switching"] is True
    assert s["results"][0]["disclosure"]["flags"] == [
        {"kind": "primary_demoted", "title": "all-cause mortality",
         "registered": canonical(MORTALITY), "reported": canonical(MORTALITY)},
        {"kind": "secondary_promoted", "title": "ventilator-free days",
         "registered": canonical(VENT_FREE), "reported": canonical(VENT_FREE)},
        {"kind": "secondary_dropped", "title": "length of hospital stay", "registered": canonical(STAY)},
    ]
    listing = ok(research(cli, net, node, "doctor", "list", "--org", "uni-a"))
    assert {x["study"]: x["outcome_switching"] for x in listing["studies"]} == {"faithful": False, "switched": True}


def test_wrong_openings_and_outsiders_are_refused_and_change_nothing(reg, cli, tmp_path):
    net, node, protocol = reg
    ok(register(cli, net, node, "alice", "trial", protocol))
    paper = tmp_path / "paper.txt"
    paper.write_text("Results.\n")
    opening = tmp_path / "alice.opening.json"
    ok(commit(cli, net, node, "alice", "trial", paper, opening, [MORTALITY], [VENT_FREE, STAY]))
    before = show(cli, net, node, "trial")
    assert before["status"] == "results_committed"

    # A well-formed opening of other results (another salt): refused by the module.
    wrong = json.loads(opening.read_text())
    wrong["salt"] = "00" * 32
    wrong["commitment"] = commitment("trial", wrong["salt"], wrong["results_hash"], [MORTALITY], [VENT_FREE, STAY])
    bad = tmp_path / "wrong.opening.json"
    bad.write_text(json.dumps(wrong))
    r = research(cli, net, node, "alice", "disclose", "trial", "--opening", bad, "--seq", "1", "--wait")
    assert r.returncode == 1
    res = json.loads(r.stdout)["result"]
    assert res["code"] == "invalid_payload" and "does not match commitment 1" in res["detail"], res
    # A damaged opening file is caught before anything is sent.
    damaged = dict(wrong, commitment=before["results"][0]["commitment"])
    bad.write_text(json.dumps(damaged))
    r = research(cli, net, node, "alice", "disclose", "trial", "--opening", bad, "--wait")
    assert r.returncode == 1 and "do not give its commitment" in r.stderr, r.stderr

    # Another organisation's researcher neither commits nor discloses.
    r = commit(cli, net, node, "bob", "trial", paper, tmp_path / "bob.opening.json", [MORTALITY], [])
    assert r.returncode == 1 and json.loads(r.stdout)["result"]["code"] == "unauthorized", r.stdout
    r = research(cli, net, node, "bob", "disclose", "trial", "--opening", opening, "--wait")
    assert r.returncode == 1 and json.loads(r.stdout)["result"]["code"] == "unauthorized", r.stdout
    # Malformed input is refused at the door (two outcomes with one title).
    r = register(cli, net, node, "alice", "dup", protocol, secondary=(STAY, "LENGTH of hospital stay | hours"))
    assert r.returncode == 1 and "listed twice" in r.stderr, r.stderr
    assert show(cli, net, node, "trial") == before
    cchelpers.assert_json_error(node.api(net.keys["doctor"]).get("/v1/modules/research/studies/dup"), 404)

    # The registrant's colleague discloses with the real opening.
    d = ok(research(cli, net, node, "anna", "disclose", "trial", "--opening", opening, "--wait"))
    assert d["result"]["code"] == "ok", d
    assert show(cli, net, node, "trial")["results"][0]["disclosure"]["by"] == net.keys["anna"].public_hex


def test_anyone_verifies_a_registration_offline(reg, cli, tmp_path):
    net, node, protocol = reg
    a = ok(register(cli, net, node, "alice", "prone-a", protocol))
    paper = tmp_path / "paper.txt"
    paper.write_text("Results.\n")
    opening = tmp_path / "opening.json"
    c = ok(commit(cli, net, node, "alice", "prone-a", paper, opening, [MORTALITY], [VENT_FREE, STAY]))
    # The registrant saves the proofs (a signer may read its own) and publishes them.
    reg_proof, commit_proof = tmp_path / "registration.proof.json", tmp_path / "commit.proof.json"
    for tx, out in ((a["id"], reg_proof), (c["id"], commit_proof)):
        r = cli.run("proof", tx, "-o", out, "--node", node.url, "-k", net.key_path("alice"))
        assert r.returncode == 0, r.stderr
    assert node.stop() == 0

    # No node from here on.
    v = ok(cli.run("research", "verify", reg_proof, "--protocol", protocol, "--genesis", net.genesis_path))
    assert v["verified"] is True and v["proposer_trusted"] is True
    assert (v["study"], v["action"], v["height"]) == ("prone-a", "register", a["height"])
    assert v["block_time_ms"] == a["block_time_ms"]
    assert v["protocol_hash"] == sha256(protocol.read_bytes())
    v = ok(cli.run("research", "verify", commit_proof, "--opening", opening, "--results", paper,
                   "--genesis", net.genesis_path))
    assert v["commitment"] == c["commitment"] and v["action"] == "commit_results"

    # One changed byte in the protocol is detected.
    tampered = tmp_path / "protocol-tampered.txt"
    tampered.write_bytes(protocol.read_bytes().replace(b"400 patients", b"500 patients"))
    r = cli.run("research", "verify", reg_proof, "--protocol", tampered, "--genesis", net.genesis_path)
    assert r.returncode == 1 and "has SHA-256 " + sha256(tampered.read_bytes()) in r.stderr, r.stderr
    # So are other results, a proof whose transaction was altered, and an untrusted proposer.
    other = tmp_path / "other-paper.txt"
    other.write_text("Better results.\n")
    r = cli.run("research", "verify", commit_proof, "--opening", opening, "--results", other)
    assert r.returncode == 1 and "the opening commits to" in r.stderr, r.stderr
    proof = json.loads(reg_proof.read_text())
    raw = bytearray.fromhex(proof["tx"])
    at = raw.find(a["protocol_hash"].encode())
    assert at > 0, "the payload carries the protocol hash as hex text"
    raw[at:at + 64] = sha256(tampered.read_bytes()).encode()
    proof["tx"] = raw.hex()
    forged = tmp_path / "forged.proof.json"
    forged.write_text(json.dumps(proof))
    r = cli.run("research", "verify", forged, "--protocol", tampered, "--genesis", net.genesis_path)
    assert r.returncode == 1 and "proof does not verify" in r.stderr, r.stderr
    r = cli.run("research", "verify", reg_proof, "--protocol", protocol, "--proposer", cchelpers.Key().public_hex)
    assert r.returncode == 1 and "not a trusted node" in r.stderr, r.stderr
