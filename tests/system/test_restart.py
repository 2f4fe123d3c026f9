"""A node stopped with SIGINT or SIGTERM and started again resumes where it
stopped: same head, earlier transactions present, nonces continue."""
import os
import signal

import pytest

from cchelpers import Key, assert_json_error, write_node_toml

HOSPITAL = "st-marien-hospital"
PHARMACY = "apotheke-am-markt"


def _register(net, api, signer, org, role="patient"):
    n = api.next_nonce(signer.public_hex)
    tx = net.tx(signer, n, "identity", "register_actor",
                {"key": Key().public_hex, "org": org, "role": role})
    return tx, api.commit(tx)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_restart_resumes(node_factory, cli, sig):
    net = node_factory.demo("restart")
    node = node_factory.node(net)
    api = node.api()
    hadmin, padmin, doctor = (net.keys[k] for k in ("hospital-admin", "pharmacy-admin", "dr-weber"))

    committed = []
    for _ in range(3):
        committed.append(_register(net, api, hadmin, HOSPITAL))
        committed.append(_register(net, api, padmin, PHARMACY, "pharmacist"))
    committed.append(_register(net, api, doctor, HOSPITAL))
    # Some in one batch, followed to commit.
    n = api.next_nonce(doctor.public_hex)
    batch = [net.tx(doctor, n + i, "identity", "register_actor",
                    {"key": Key().public_hex, "org": HOSPITAL, "role": "patient"}) for i in range(5)]
    assert api.post_batch([t.raw for t in batch]).json()["accepted"] == 5
    committed += [(t, api.wait_committed(t.id)) for t in batch]

    before = api.info()
    nonces = {k.public_hex: api.next_nonce(k.public_hex) for k in (hadmin, padmin, doctor)}
    assert nonces[doctor.public_hex] == 7
    state_before = api.get_json("/v1/state/identity?limit=1000")

    assert node.stop(sig) == 0
    log = node.new_stdout() + node.new_stderr()
    assert "stopped cleanly" in log, log

    node.start()
    api = node.api()
    after = api.info()
    for f in ("height", "head_hash", "state_root", "genesis_hash", "chain_id", "node_key"):
        assert after[f] == before[f], f
    assert api.get_json("/v1/state/identity?limit=1000") == state_before
    for tx, st in committed:
        now = api.tx_status(tx.id)
        assert now["status"] == "committed" and now["result"]["code"] == "ok"
        assert (now["height"], now["index"], now["block_hash"]) == (st["height"], st["index"],
                                                                   st["block_hash"])
    for pk, n in nonces.items():
        assert api.next_nonce(pk) == n
    # A used nonce is still used; the next one commits on top of the old head.
    assert_json_error(api.post_json_tx(net.tx(doctor, nonces[doctor.public_hex] - 1, "identity",
                                              "register_actor",
                                              {"key": Key().public_hex, "org": HOSPITAL,
                                               "role": "patient"})), 409)
    tx, st = _register(net, api, doctor, HOSPITAL)
    assert tx.body["nonce"] == nonces[doctor.public_hex]
    assert st["height"] == before["height"] + 1
    blk = api.get_json(f"/v1/blocks/{st['height']}")
    assert blk["header"]["prev_hash"] == before["head_hash"]
    assert blk["header"]["time_ms"] >= api.get_json(f"/v1/blocks/{before['height']}")["header"]["time_ms"]

    # Twice more, with nothing in between: still the same chain.
    for _ in range(2):
        h = api.info()
        assert node.stop(sig) == 0
        node.start()
        api = node.api()
        assert api.info()["head_hash"] == h["head_hash"]

    assert node.stop(sig) == 0
    r = cli.verify(net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr


def test_restart_of_idle_node_keeps_genesis(node_factory):
    net = node_factory.demo("idle")
    node = node_factory.node(net)
    info = node.api().info()
    assert info["height"] == 0
    assert node.stop() == 0
    node.start()
    again = node.api().info()
    assert again["height"] == 0 and again["head_hash"] == info["head_hash"]
    assert again["genesis_hash"] == info["genesis_hash"]


def test_data_folder_of_another_network_is_refused(node_factory, cli):
    a = node_factory.demo("net-a")
    node = node_factory.node(a)
    _register(a, node.api(), a.keys["hospital-admin"], HOSPITAL)
    head = node.api().info()["head_hash"]
    assert node.stop() == 0
    # Network b's genesis and node key, pointed at a's data folder.
    b = node_factory.demo("net-b")
    cfg = os.path.join(b.dir, "foreign.toml")
    write_node_toml(cfg, data_dir=a.data_dir)
    r = cli.run("node", "--config", cfg, timeout=60)
    assert r.returncode != 0
    assert "genesis" in r.stderr.lower(), r.stderr
    # a's store is untouched by the attempt.
    node.start()
    assert node.api().info()["head_hash"] == head


def test_bad_config_is_refused(node_factory, cli):
    net = node_factory.demo("badcfg")
    cases = {
        "missing_genesis": "[node]\ndata_dir = \"d\"\nkey_file = \"keys/node.key\"\n",
        "bad_port": "[node]\ndata_dir = \"d\"\nkey_file = \"keys/node.key\"\ngenesis = \"genesis.json\"\n"
                    "[api]\nport = 70000\n",
        "not_toml": "[node\n",
        "missing_key_file": "[node]\ndata_dir = \"d\"\nkey_file = \"keys/nope.key\"\n"
                            "genesis = \"genesis.json\"\n[api]\nport = 0\n",
    }
    for name, text in cases.items():
        cfg = os.path.join(net.dir, name + ".toml")
        with open(cfg, "w") as f:
            f.write(text)
        r = cli.run("node", "--config", cfg, timeout=60)
        assert r.returncode != 0, name
        assert "error" in r.stderr, (name, r.stderr)
        assert "listening" not in r.stdout, name
