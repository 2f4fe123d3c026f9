"""The token through a real node and the CLI: the demo's supply sits in the
hospital's treasury; its admin pays a patient, the patient pays a provider;
balances and histories add up; overspending, a replayed transfer, a
stranger's spending of the treasury and reading another's account are
refused and change nothing."""
import json

import pytest

import cchelpers
from test_research import ok

SUPPLY = 1_000_000_000


@pytest.fixture
def demo(node_factory):
    net = node_factory.demo("token", block_interval_ms=20)
    return net, node_factory.node(net)


def token(cli, net, node, signer, *args):
    return cli.run("token", *args, "--node", node.url, "-k", net.key_path(signer))


def test_payments_balances_and_refusals(demo, cli):
    net, node = demo
    anna, weber = (net.keys[n].public_hex for n in ("patient-anna", "dr-weber"))
    meta = ok(token(cli, net, node, "patient-anna", "info"))
    assert (meta["symbol"], meta["supply"], meta["decimals"]) == ("CARE", SUPPLY, 0)

    r = ok(token(cli, net, node, "hospital-admin", "transfer", "--from-org", "st-marien-hospital", "--to", anna,
                 "--amount", "100", "--memo", "welcome", "--wait"))
    assert r["result"]["code"] == "ok"
    ok(token(cli, net, node, "patient-anna", "transfer", "--to", weber, "--amount", "30", "--wait"))
    assert ok(token(cli, net, node, "patient-anna", "balance"))["balance"] == 70
    assert ok(token(cli, net, node, "dr-weber", "balance"))["balance"] == 30
    treasury = ok(token(cli, net, node, "hospital-admin", "balance", "--account", "org:st-marien-hospital"))
    assert treasury["balance"] == SUPPLY - 100
    history = ok(token(cli, net, node, "patient-anna", "history"))["history"]
    assert [(h["from"], h["to"], h["amount"], h["balance"]) for h in history] == [
        ("org:st-marien-hospital", anna, 100, 100), (anna, weber, 30, 70)]
    assert history[0]["memo"] == "welcome"

    # Overspending: refused with the balance, nothing moves.
    r = token(cli, net, node, "patient-anna", "transfer", "--to", weber, "--amount", "71", "--wait")
    assert r.returncode == 1 and "is 70, less than 71" in r.stdout
    # A provider cannot spend the treasury.
    r = token(cli, net, node, "dr-weber", "transfer", "--from-org", "st-marien-hospital", "--to", weber,
              "--amount", "5", "--wait")
    assert r.returncode == 1 and "admins" in r.stdout
    # A replayed transfer (the same signed bytes) is refused at admission.
    api = node.api(net.keys["patient-anna"])
    tx = net.tx(net.keys["patient-anna"], api.next_nonce(anna), "token", "transfer", {"to": weber, "amount": 1})
    api.commit(tx)
    again = api.post_json_tx(tx, wait=True)
    assert again.status_code >= 400, again.text
    assert ok(token(cli, net, node, "patient-anna", "balance"))["balance"] == 69
    assert ok(token(cli, net, node, "dr-weber", "balance"))["balance"] == 31

    # Who reads what: the holder and chain readers; an organisation's account its actors.
    cchelpers.assert_json_error(node.api(net.keys["dr-weber"]).get(f"/v1/modules/token/accounts/{anna}"), 403)
    assert node.api(net.keys["auditor-vogel"]).get_json(f"/v1/modules/token/accounts/{anna}")["balance"] == 69
    org = node.api(net.keys["dr-weber"]).get_json("/v1/modules/token/accounts/org:st-marien-hospital")
    assert org["balance"] == SUPPLY - 100
    cchelpers.assert_json_error(
        node.api(net.keys["pharmacist-braun"]).get("/v1/modules/token/accounts/org:st-marien-hospital"), 403)


@pytest.mark.parametrize("sub", ["info", "balance", "history", "transfer"])
def test_token_help(cli, sub):
    r = cli.run("token", sub, "--help", timeout=30)
    assert r.returncode == 0 and "Usage:" in r.stdout, r.stderr
