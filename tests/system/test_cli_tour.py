"""The CLI tour: every subcommand's --help, key generation, submitting through
the CLI, looking transactions and blocks up, proofs checked offline (and a
tampered proof refused), queries, and `verify` on the stopped node."""
import copy
import json
import os
import stat

import pytest

from cchelpers import Key

SUBCOMMANDS = [
    [], ["keygen"], ["tx"], ["tx", "submit"], ["tx", "get"], ["block"], ["block", "get"],
    ["proof"], ["verify-proof"], ["verify"], ["node"], ["demo"], ["demo", "init"], ["info"],
    ["query"], ["records"], ["supply"], ["coldchain"], ["wearables"], ["research"], ["token"],
]


@pytest.mark.parametrize("sub", SUBCOMMANDS, ids=lambda s: "-".join(s) or "top")
def test_help_works_on_every_subcommand(cli, sub):
    r = cli.run(*sub, "--help", timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Usage:" in r.stdout
    # Each level names its own options or subcommands.
    assert "--help" in r.stdout


def test_top_level_help_lists_every_subcommand(cli):
    out = cli.run("--help").stdout
    for name in ["keygen", "tx", "block", "proof", "verify-proof", "verify", "node", "demo",
                 "info", "query", "records", "supply", "coldchain", "wearables", "research", "token"]:
        assert f"  {name} " in out, name


def test_unknown_subcommand_fails(cli):
    r = cli.run("no-such-command")
    assert r.returncode != 0


def test_keygen_writes_private_key_file(cli, tmp_path):
    path = tmp_path / "k.key"
    out = cli.ok_json("keygen", "--out", path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = Key.from_file(path)  # the seed derives the public key it names
    assert out["public_key"] == key.public_hex
    # Refuses to overwrite without --force, and keeps the old key.
    r = cli.run("keygen", "--out", path)
    assert r.returncode != 0
    assert Key.from_file(path).public_hex == key.public_hex
    out2 = cli.ok_json("keygen", "--out", path, "--force")
    assert out2["public_key"] != key.public_hex
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_tour(cli, node_factory, tmp_path):
    net = node_factory.demo("tour", block_interval_ms=50)
    node = node_factory.node(net)
    api = node.api()
    url = node.url
    admin = net.key_path("hospital-admin")

    info = cli.ok_json("info", "--node", url, "--key", admin)
    # Every request is signed: without a key the CLI says what is missing.
    r = cli.run("info", "--node", url, env={k: v for k, v in os.environ.items() if k != "CARECHAIN_KEY"})
    assert r.returncode != 0 and "--key" in r.stderr, r.stderr
    assert info["chain_id"] == net.chain_id and info["height"] == 0
    assert info["max_tx_bytes"] == 65536

    # A new provider key, registered through the CLI (JSON form, --wait).
    newkey = tmp_path / "provider.key"
    pub = cli.ok_json("keygen", "-o", newkey)["public_key"]
    payload = json.dumps({"role": "provider", "org": "st-marien-hospital", "key": pub})
    st = cli.ok_json("tx", "submit", "--node", url, "-k", admin, "-m", "identity",
                     "-a", "register_actor", "-p", payload, "--wait")
    assert st["status"] == "committed" and st["result"]["code"] == "ok"
    txid, height = st["id"], st["height"]
    assert height == 1

    # The same through $CARECHAIN_NODE, --binary and a payload from stdin:
    # the new provider vouches for a patient.
    patient = Key()
    env = dict(os.environ, CARECHAIN_NODE=url)
    r = cli.run("tx", "submit", "-k", newkey, "-m", "identity", "-a", "register_actor",
                "-p", "-", "--binary", "--wait", env=env,
                input=json.dumps({"key": patient.public_hex, "org": "st-marien-hospital",
                                  "role": "patient"}))
    assert r.returncode == 0, r.stderr
    st2 = json.loads(r.stdout)
    assert st2["status"] == "committed" and st2["result"]["code"] == "ok"
    assert st2["height"] > height

    # A payload from @file; rejected by the module (key already registered):
    # committed with a rejection, and the CLI exits non-zero.
    pfile = tmp_path / "payload.json"
    pfile.write_text(payload)
    r = cli.run("tx", "submit", "--node", url, "-k", admin, "-m", "identity",
                "-a", "register_actor", "-p", f"@{pfile}", "--wait")
    assert r.returncode != 0
    rej = json.loads(r.stdout)
    assert rej["status"] == "committed" and rej["result"]["code"] == "already_exists"

    # tx get
    got = cli.ok_json("tx", "get", "--node", url, "--key", admin, txid)
    assert got["status"] == "committed" and got["height"] == height
    assert got["tx"]["payload"] == json.loads(payload)
    assert got["tx"]["actor"] == net.keys["hospital-admin"].public_hex
    assert got["tx"]["nonce"] == 1
    r = cli.run("tx", "get", "--node", url, "--key", admin, "ab" * 32)
    assert r.returncode != 0 and "404" in r.stderr
    r = cli.run("tx", "get", "--node", url, "--key", admin, "not-hex")
    assert r.returncode != 0

    # block get: JSON, full, latest and the binary encoding.
    blk = cli.ok_json("block", "get", "--node", url, "--key", admin, str(height))
    assert blk["header"]["height"] == height and txid in blk["tx_ids"]
    assert blk["hash"] == got["block_hash"]
    full = cli.ok_json("block", "get", "--node", url, "--key", admin, str(height), "--full")
    assert [t["id"] for t in full["transactions"]] == blk["tx_ids"]
    latest = cli.ok_json("block", "get", "--node", url, "--key", admin, "latest")
    assert latest["header"]["height"] == api.info()["height"] >= 3
    binfile = tmp_path / "block.bin"
    r = cli.run("block", "get", "--node", url, "--key", admin, str(height), "--out", binfile)
    assert r.returncode == 0, r.stderr
    assert binfile.read_bytes() == api.get(f"/v1/blocks/{height}?format=binary").content
    assert bytes.fromhex(txid) and len(binfile.read_bytes()) > 200
    r = cli.run("block", "get", "--node", url, "--key", admin, "999")
    assert r.returncode != 0 and "404" in r.stderr

    # query
    actor = cli.ok_json("query", "--node", url, "--key", admin, "identity", f"actors/{pub}")
    assert actor["role"] == "provider" and actor["status"] == "active"
    assert actor["registered_by"] == net.keys["hospital-admin"].public_hex
    orgs = cli.ok_json("query", "--node", url, "--key", admin, "identity", "orgs")
    assert sorted(o["id"] for o in orgs) == sorted(o["id"] for o in net.genesis["orgs"])
    assert {"apotheke-am-markt", "st-marien-hospital"} <= {o["id"] for o in orgs}
    r = cli.run("query", "--node", url, "--key", admin, "identity", "actors/" + "00" * 32)
    assert r.returncode != 0

    # proof + verify-proof against the genesis' node keys.
    proof_path = tmp_path / "proof.json"
    r = cli.run("proof", "--node", url, "--key", admin, txid, "--out", proof_path)
    assert r.returncode == 0, r.stderr
    proof = json.loads(proof_path.read_text())
    assert proof["tx_id"] == txid
    v = cli.ok_json("verify-proof", proof_path, "--genesis", net.genesis_path)
    assert v["valid"] is True and v["tx_id"] == txid and v["height"] == height
    assert v["proposer_trusted"] is True and v["result"] == "ok"
    assert v["proposer"] == net.keys["node"].public_hex
    # Without a trust anchor the proof is still checked (and says so).
    v = cli.ok_json("verify-proof", proof_path)
    assert v["valid"] is True and v["proposer_trusted"] is False
    # A proof of a transaction that is not committed does not exist.
    r = cli.run("proof", "--node", url, "--key", admin, "cd" * 32)
    assert r.returncode != 0 and "404" in r.stderr

    # A different network's genesis does not trust this chain's node.
    other = node_factory.demo("other")
    r = cli.run("verify-proof", proof_path, "--genesis", other.genesis_path)
    assert r.returncode != 0 and "trusted" in r.stderr

    # Stop the node cleanly: verify --data passes on the stopped node.
    assert node.stop() == 0
    assert "stopped cleanly" in node.new_stdout() + node.new_stderr()
    r = cli.verify(net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads(r.stdout)
    assert rep["ok"] is True and rep["height"] == latest["header"]["height"]
    assert rep["transactions"] == 3 and rep["blocks"] == rep["height"] + 1
    r = cli.verify(net.data_dir, "--genesis", net.genesis_path, "--quick")
    assert r.returncode == 0, r.stderr
    # verify refuses a folder without a store, and a foreign genesis.
    assert cli.verify(str(tmp_path / "nothing-here")).returncode != 0
    r = cli.verify(net.data_dir, "--genesis", other.genesis_path)
    assert r.returncode != 0


def _multi_tx_block(node_factory):
    """A node with one block of several transactions; returns (net, node, txs)."""
    net = node_factory.demo("proofs", block_interval_ms=500)
    node = node_factory.node(net)
    api = node.api()
    admin = net.keys["hospital-admin"]
    txs = [net.tx(admin, n, "identity", "register_actor",
                  {"key": Key().public_hex, "org": "st-marien-hospital", "role": "patient"})
           for n in range(1, 8)]
    r = api.post_batch([t.raw for t in txs])
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == len(txs)
    statuses = [api.wait_committed(t.id) for t in txs]
    return net, node, txs, statuses


TAMPERS = {
    "tx_id": lambda p: p.update(tx_id=("0" if p["tx_id"][0] != "0" else "1") + p["tx_id"][1:]),
    "tx_bytes": lambda p: p.update(tx=p["tx"][:200] + ("0" if p["tx"][200] != "0" else "1") + p["tx"][201:]),
    "result_code": lambda p: p["result"].update(code=4, name="already_exists"),
    "result_detail": lambda p: p["result"].update(detail="forged"),
    "index": lambda p: p.update(index=(p["index"] + 1) % p["count"]),
    "path": lambda p: p["path"].__setitem__(0, "00" * 32),
    "header_time": lambda p: p["header"].update(time_ms=p["header"]["time_ms"] + 1),
    "header_height": lambda p: p["header"].update(height=p["header"]["height"] + 1),
    "block_hash": lambda p: p.update(block_hash="11" * 32),
    "signature": lambda p: p.update(signature=p["signature"][:-2] + ("00" if p["signature"][-2:] != "00" else "01")),
    "not_json": None,
}


@pytest.fixture(scope="module")
def proof_setup(module_node_factory):
    net, node, txs, statuses = _multi_tx_block(module_node_factory)
    # Pick a transaction in a block with at least two, so the proof has a path.
    for t, st in zip(txs, statuses):
        assert st["status"] == "committed", st
    pick = max(range(len(txs)), key=lambda i: node.api().get_json(
        f"/v1/blocks/{statuses[i]['height']}")["header"]["tx_count"])
    proof = node.api().get_json(f"/v1/proofs/{txs[pick].id}")
    yield net, proof
    node.stop()


def test_proof_of_multi_tx_block_verifies(cli, proof_setup, tmp_path):
    net, proof = proof_setup
    assert proof["count"] >= 2 and len(proof["path"]) >= 1, proof
    p = tmp_path / "proof.json"
    p.write_text(json.dumps(proof))
    v = cli.ok_json("verify-proof", p, "--genesis", net.genesis_path)
    assert v["valid"] is True and v["tx_id"] == proof["tx_id"]
    v = cli.ok_json("verify-proof", p, "--proposer", net.keys["node"].public_hex)
    assert v["proposer_trusted"] is True
    r = cli.run("verify-proof", p, "--proposer", Key().public_hex)
    assert r.returncode != 0 and "not a trusted node" in r.stderr


@pytest.mark.parametrize("how", sorted(TAMPERS))
def test_tampered_proof_is_rejected(cli, proof_setup, tmp_path, how):
    net, proof = proof_setup
    p = tmp_path / "proof.json"
    if TAMPERS[how] is None:
        p.write_text(json.dumps(proof)[:-5])
    else:
        bad = copy.deepcopy(proof)
        TAMPERS[how](bad)
        assert bad != proof
        p.write_text(json.dumps(bad))
    r = cli.run("verify-proof", p, "--genesis", net.genesis_path)
    assert r.returncode != 0, f"tampered ({how}) proof accepted: {r.stdout}"
    assert "error" in r.stderr
    assert '"valid"' not in r.stdout
