"""Verified reviews through a real node and the CLI: a provider attests a
visit, its patient reviews it once (the text kept encrypted by the review
platform, its hash on chain) and is rewarded from the treasury; aggregates
follow reviews and corrections; the provider rewards a review's author; the
patient's erasure removes the text and leaves the ratings. The abuse cases
the issue names are refused and change nothing."""
import json
import os

import pytest

import cchelpers
from test_research import ok

TEXT = "Sehr freundliches Team, aber lange Wartezeit in der Notaufnahme."


@pytest.fixture
def demo(node_factory):
    net = node_factory.demo("reviews", block_interval_ms=20)
    node = node_factory.node(net)
    # Two more patients: ben registered by the pharmacy, cara by the hospital.
    for name, admin, org in (("ben", "pharmacy-admin", "apotheke-am-markt"),
                             ("cara", "hospital-admin", "st-marien-hospital")):
        key = cchelpers.Key()
        key.write(net.key_path(name))
        net.keys[name] = key
        api = node.api(net.keys[admin])
        signer = net.keys[admin]
        api.commit(net.tx(signer, api.next_nonce(signer.public_hex), "identity", "register_actor",
                          {"key": key.public_hex, "org": org, "role": "patient"}))
    return net, node


def reviews(cli, net, node, signer, *args):
    return cli.run("reviews", *args, "--node", node.url, "-k", net.key_path(signer))


def refused(r, why):
    assert r.returncode == 1, f"expected a refusal, got exit {r.returncode}: {r.stdout} {r.stderr}"
    assert why in r.stdout + r.stderr, r.stdout + r.stderr


def attest(cli, net, node, provider, patient):
    r = ok(reviews(cli, net, node, provider, "attest", "--patient", net.keys[patient].public_hex, "--wait"))
    assert r["result"]["code"] == "ok", r
    return r["visit"]


def balance(cli, net, node, who):
    r = cli.run("token", "balance", "--node", node.url, "-k", net.key_path(who))
    return ok(r)["balance"]


def test_review_life_and_abuse(demo, cli):
    net, node = demo
    anna, ben = net.keys["patient-anna"].public_hex, net.keys["ben"].public_hex
    meta = ok(reviews(cli, net, node, "patient-anna", "info"))
    assert meta["platform"] == "st-marien-hospital" and meta["reward"] == 10

    visit = attest(cli, net, node, "dr-weber", "patient-anna")
    r = ok(reviews(cli, net, node, "patient-anna", "write", "--visit", visit, "--overall", "4",
                   "--aspect", "communication=5", "--aspect", "waiting_time=2", "--text", TEXT, "--wait"))
    assert r["result"]["code"] == "ok", r
    assert balance(cli, net, node, "patient-anna") == 10

    shown = ok(reviews(cli, net, node, "pharmacist-braun", "show", visit, "--texts"))
    assert shown["provider"] == "st-marien-hospital" and shown["verified_visit"]["date"]
    assert shown["ratings"] == {"overall": 4, "aspects": {"communication": 5, "waiting_time": 2}}
    assert shown["texts"]["text"] == {"status": "ok", "text": TEXT}
    assert anna not in json.dumps(shown), "a review names no patient"
    # The chain holds the salted hash, not the text.
    tx = node.api(net.keys["auditor-vogel"]).get_json(f"/v1/transactions/{shown['tx']}")
    assert TEXT not in json.dumps(tx) and shown["text"]["hash"] in json.dumps(tx)

    # Abuse: a second review of the visit, another patient's review of it, a
    # review without a visit, a second invitation within 30 days (also by a
    # colleague of the same provider), attestations to oneself and to staff.
    refused(reviews(cli, net, node, "patient-anna", "write", "--visit", visit, "--overall", "5", "--wait"),
            "already reviewed")
    refused(reviews(cli, net, node, "ben", "write", "--visit", visit, "--overall", "1", "--wait"),
            "only the visit's patient reviews it")
    refused(reviews(cli, net, node, "patient-anna", "write", "--visit", "0" * 32, "--overall", "5", "--wait"),
            "a review needs an attested visit")
    for provider in ("dr-weber", "dr-yilmaz"):
        refused(reviews(cli, net, node, provider, "attest", "--patient", anna, "--wait"),
                "the next invitation is possible from")
    for staff in ("dr-weber", "dr-yilmaz"):
        refused(reviews(cli, net, node, "dr-weber", "attest", "--patient", net.keys[staff].public_hex, "--wait"),
                "not to itself or staff")
    refused(reviews(cli, net, node, "pharmacist-braun", "attest", "--patient", anna, "--wait"),
            "visits are attested by providers")
    # Overspending the reward.
    r = cli.run("token", "transfer", "--to", ben, "--amount", "11", "--wait", "--node", node.url,
                "-k", net.key_path("patient-anna"))
    refused(r, "is 10, less than 11")
    assert balance(cli, net, node, "patient-anna") == 10
    agg = ok(reviews(cli, net, node, "ben", "provider", "st-marien-hospital"))
    assert agg["reviews"] == 1 and agg["overall"]["mean"] == 4.0

    # Another provider invites anna independently; ben reviews the hospital.
    assert attest(cli, net, node, "dr-koch", "patient-anna")
    visit_ben = attest(cli, net, node, "dr-weber", "ben")
    ok(reviews(cli, net, node, "ben", "write", "--visit", visit_ben, "--overall", "2", "--wait"))
    agg = ok(reviews(cli, net, node, "ben", "provider", "st-marien-hospital"))
    assert (agg["reviews"], agg["overall"]["mean"], agg["vouched_by_provider"]) == (2, 3.0, 1)
    assert agg["overall"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}

    # A correction: new ratings counted, a text, the original kept.
    ok(reviews(cli, net, node, "ben", "correct", "--review", visit_ben, "--overall", "3",
               "--text", "Nachtrag: Der Befund kam doch noch rechtzeitig.", "--wait"))
    refused(reviews(cli, net, node, "dr-weber", "correct", "--review", visit_ben, "--overall", "5", "--wait"),
            "only the review's patient corrects it")
    shown = ok(reviews(cli, net, node, "ben", "show", visit_ben, "--texts"))
    assert (shown["ratings"]["overall"], shown["current"]["overall"]) == (2, 3)
    assert shown["texts"]["corrections"][0]["text"] == "Nachtrag: Der Befund kam doch noch rechtzeitig."
    agg = ok(reviews(cli, net, node, "ben", "provider", "st-marien-hospital", "--list"))
    assert agg["overall"]["mean"] == 3.5
    assert [p["review"] for p in agg["page"]] == [visit, visit_ben]

    # The provider rewards ben's review without learning who wrote it.
    ok(reviews(cli, net, node, "hospital-admin", "reward", "--review", visit_ben, "--amount", "25", "--wait"))
    refused(reviews(cli, net, node, "pharmacy-admin", "reward", "--review", visit_ben, "--amount", "5", "--wait"),
            "rewarded by an admin of its provider")
    assert balance(cli, net, node, "ben") == 35
    assert ok(reviews(cli, net, node, "ben", "show", visit_ben))["rewards"] == {"treasury": 10, "provider": 25}

    # Erasure: anna's text goes, her review and ratings stay.
    r = ok(reviews(cli, net, node, "patient-anna", "erase", "--yes", "--wait"))
    assert r["documents"] == 2 and r["status"] == "committed", r
    shown = ok(reviews(cli, net, node, "ben", "show", visit, "--texts"))
    assert shown["texts"]["text"]["status"] == "erased" and "erased_at" in shown["text"]
    assert shown["ratings"]["overall"] == 4
    assert ok(reviews(cli, net, node, "ben", "provider", "st-marien-hospital"))["reviews"] == 2
    # Asking again changes nothing and owes nothing.
    r = ok(reviews(cli, net, node, "patient-anna", "erase", "--yes", "--wait"))
    assert r == {"documents": 0, "status": "nothing on chain to confirm"}
    # ben's texts are untouched.
    assert ok(reviews(cli, net, node, "ben", "show", visit_ben, "--texts"))["texts"]["corrections"][0]["status"] == "ok"


def test_who_reads_and_writes_what(demo, cli):
    net, node = demo
    anna = net.keys["patient-anna"].public_hex
    visit = attest(cli, net, node, "dr-weber", "patient-anna")
    path = f"/v1/modules/reviews/visits/{visit}"
    for reader in ("patient-anna", "dr-yilmaz", "hospital-admin", "auditor-vogel"):
        assert node.api(net.keys[reader]).get_json(path)["patient"] == anna, reader
    for stranger in ("pharmacist-braun", "dr-koch", "ben"):
        cchelpers.assert_json_error(node.api(net.keys[stranger]).get(path), 403)
    visits = ok(reviews(cli, net, node, "patient-anna", "visits"))["visits"]
    assert [v["visit"] for v in visits] == [visit]
    cchelpers.assert_json_error(node.api(net.keys["ben"]).get(f"/v1/modules/reviews/patients/{anna}/visits"), 403)

    # Texts are handed in by patients only, in the documented shape.
    api = node.api(net.keys["patient-anna"])
    cchelpers.assert_json_error(node.api(net.keys["dr-weber"]).post_json("/v1/reviews/texts", {"text": "gut"}), 403)
    cchelpers.assert_json_error(api.post_json("/v1/reviews/texts", {}), 400, message_contains="text")
    cchelpers.assert_json_error(api.post_json("/v1/reviews/texts", {"text": "x" * 5001}), 400)
    cchelpers.assert_json_error(api.post_json("/v1/reviews/texts", {"text": "a\u0000b"}), 400)
    cchelpers.assert_json_error(api.get("/v1/reviews/" + "0" * 32 + "/texts"), 404)
    cchelpers.assert_json_error(node.api(net.keys["dr-weber"]).post_json("/v1/reviews/erasure", {}), 403)
    # A text handed in is sealed: its words are in no file of the node.
    sealed = api.post_json("/v1/reviews/texts", {"text": "Unverwechselbarer Satz 4711"})
    assert sealed.status_code == 201 and set(sealed.json()) == {"custodian", "ref", "hash"}
    for root, _, files in os.walk(net.data_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert b"Unverwechselbarer" not in fh.read(), f


@pytest.mark.parametrize("sub", ["info", "attest", "visits", "write", "correct", "show", "provider", "providers",
                                 "reward", "erase"])
def test_reviews_help(cli, sub):
    r = cli.run("reviews", sub, "--help", timeout=30)
    assert r.returncode == 0 and "Usage:" in r.stdout, r.stderr
