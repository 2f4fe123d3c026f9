"""Tampering with a stopped node's store (through Debian's `ldb`): one byte of
a block, or one state entry. `carechain verify` fails naming the block or the
state, `carechain node` refuses to start, and `node --resync` rebuilds the
state from the blocks."""
import json
import os
import shutil

import pytest

from cchelpers import Key, Network, height_key, ldb_delete, ldb_get, ldb_put

HOSPITAL = "st-marien-hospital"
BLOCKS = 6
TAMPERED_HEIGHT = 3


@pytest.fixture(scope="module")
def chain(module_node_factory, cli):
    """A stopped node with BLOCKS blocks of one transaction each."""
    net = module_node_factory.demo("tamper-src")
    node = module_node_factory.node(net)
    api = node.api()
    admin = net.keys["hospital-admin"]
    txs, patients = [], []
    for n in range(1, BLOCKS + 1):
        p = Key().public_hex
        tx = net.tx(admin, n, "identity", "register_actor",
                    {"key": p, "org": HOSPITAL, "role": "patient"})
        st = api.commit(tx)
        assert st["height"] == n
        txs.append(tx)
        patients.append(p)
    records = {p: api.get_json(f"/v1/modules/identity/actors/{p}") for p in patients}
    info = api.info()
    assert node.stop() == 0
    r = cli.verify(net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    return {"net": net, "txs": txs, "patients": patients, "records": records, "info": info,
            "factory": module_node_factory}


def clone(chain, name):
    """A copy of the stopped network (genesis, keys, config, data)."""
    dst = os.path.join(chain["factory"].base, name)
    shutil.copytree(chain["net"].dir, dst)
    for f in ("node.stdout", "node.stderr"):
        if os.path.exists(os.path.join(dst, f)):
            os.remove(os.path.join(dst, f))
    return Network(dst)


def db(net):
    return os.path.join(net.data_dir, "chain")


def flip(value, pos):
    b = bytearray(value)
    b[pos] ^= 0x01
    return bytes(b)


def refuses_to_start(cli, net):
    r = cli.run("node", "--config", net.config_path, timeout=60)
    assert r.returncode != 0, "the node started on a damaged store"
    assert "listening" not in r.stdout
    return r.stderr


# Positions in block TAMPERED_HEIGHT's encoding: the header (chain id, height,
# prev hash, time, tx root, ...), the proposer signature, the transaction and
# its result at the end.
POSITIONS = {
    "chain_id": 3,
    "height": 16,
    "prev_hash": 30,
    "tx_root": 60,
    "state_root": 140,
    "signature": 220,
    "tx_actor": 280,
    "tx_module": 302,
    "tx_payload": -150,
    "tx_signature": -40,
    "result_code": -2,
    "last_byte": -1,
}


@pytest.mark.parametrize("where", sorted(POSITIONS))
def test_tampered_block_is_detected(chain, cli, where):
    net = clone(chain, f"block-{where}")
    key = height_key(TAMPERED_HEIGHT)
    raw = ldb_get(db(net), "blocks", key)
    assert len(raw) > 400
    ldb_put(db(net), "blocks", key, flip(raw, POSITIONS[where]))
    assert ldb_get(db(net), "blocks", key) != raw

    r = cli.verify(net.data_dir)
    assert r.returncode != 0, f"verify passed a tampered block ({where})"
    assert f"block {TAMPERED_HEIGHT}" in r.stderr, r.stderr
    rep = json.loads(r.stdout)
    assert rep["ok"] is False and rep["bad_height"] == TAMPERED_HEIGHT, rep
    # The quick check (what the node runs at start) catches it too.
    r = cli.verify(net.data_dir, "--quick")
    assert r.returncode != 0 and f"block {TAMPERED_HEIGHT}" in r.stderr, r.stderr

    err = refuses_to_start(cli, net)
    assert "refusing" in err and "--resync" in err, err
    assert f"block {TAMPERED_HEIGHT}" in err, err


@pytest.mark.parametrize("height", [1, BLOCKS], ids=["first", "head"])
def test_tampered_first_or_head_block_is_detected(chain, cli, height):
    net = clone(chain, f"block-at-{height}")
    key = height_key(height)
    ldb_put(db(net), "blocks", key, flip(ldb_get(db(net), "blocks", key), 64))
    r = cli.verify(net.data_dir)
    assert r.returncode != 0 and f"block {height}" in r.stderr, r.stderr
    assert json.loads(r.stdout)["bad_height"] == height
    err = refuses_to_start(cli, net)
    assert "refusing" in err and f"block {height}" in err, err


def test_tampered_genesis_block_is_detected(chain, cli):
    net = clone(chain, "block-genesis")
    key = height_key(0)
    ldb_put(db(net), "blocks", key, flip(ldb_get(db(net), "blocks", key), 20))
    r = cli.verify(net.data_dir)
    assert r.returncode != 0 and "block 0" in r.stderr, r.stderr
    err = refuses_to_start(cli, net)
    assert "refusing" in err, err
    # Nothing to re-sync from: --resync refuses too, and says why.
    r = cli.run("node", "--config", net.config_path, "--resync", timeout=60)
    assert r.returncode != 0 and "genesis" in r.stderr, r.stderr


def test_resync_after_tampered_block_keeps_the_good_prefix(chain, cli):
    net = clone(chain, "block-resync")
    key = height_key(TAMPERED_HEIGHT)
    ldb_put(db(net), "blocks", key, flip(ldb_get(db(net), "blocks", key), 100))
    assert cli.verify(net.data_dir).returncode != 0

    node = chain["factory"].node(net, resync=True)
    api = node.api()
    info = api.info()
    assert info["height"] == TAMPERED_HEIGHT - 1
    for i, tx in enumerate(chain["txs"]):
        r = api.get(f"/v1/transactions/{tx.id}")
        if i + 1 < TAMPERED_HEIGHT:
            assert r.status_code == 200 and r.json()["height"] == i + 1
        else:
            assert r.status_code == 404, f"tx of block {i + 1} survived the re-sync"
    # The chain grows again from the last good block.
    admin = net.keys["hospital-admin"]
    n = api.next_nonce(admin.public_hex)
    assert n == TAMPERED_HEIGHT
    st = api.commit(net.tx(admin, n, "identity", "register_actor",
                           {"key": Key().public_hex, "org": HOSPITAL, "role": "patient"}))
    assert st["height"] == TAMPERED_HEIGHT
    assert node.stop() == 0
    r = cli.verify(net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr


def state_key_of(chain, which):
    admin = chain["net"].keys["hospital-admin"].public_hex
    return {
        "actor": f"identity/actor/{chain['patients'][2]}",
        "org": f"identity/org/{HOSPITAL}",
        "nonce": f"ledger/nonce/{admin}",
    }[which].encode()


STATE_EDITS = ["actor", "org", "nonce", "deleted", "added"]


@pytest.mark.parametrize("edit", STATE_EDITS)
def test_tampered_state_is_detected_and_resync_repairs_it(chain, cli, edit):
    net = clone(chain, f"state-{edit}")
    d = db(net)
    if edit in ("actor", "org", "nonce"):
        key = state_key_of(chain, edit)
        value = ldb_get(d, "state", key)
        ldb_put(d, "state", key, flip(value, len(value) // 2))
    elif edit == "deleted":
        key = state_key_of(chain, "actor")
        ldb_delete(d, "state", key)
    else:
        key = f"identity/actor/{Key().public_hex}".encode()
        ldb_put(d, "state", key, b'{"org":"st-marien-hospital","role":"admin","status":"active"}')

    r = cli.verify(net.data_dir)
    assert r.returncode != 0, f"verify passed tampered state ({edit})"
    assert "state" in r.stderr, r.stderr
    assert key.decode() in r.stderr, f"verify does not name the key: {r.stderr}"
    assert json.loads(r.stdout)["ok"] is False
    r = cli.verify(net.data_dir, "--quick")
    assert r.returncode != 0 and "state" in r.stderr

    err = refuses_to_start(cli, net)
    assert "refusing" in err and "--resync" in err, err
    assert "state" in err, err

    # --resync rebuilds the state from the blocks: same head, same state.
    node = chain["factory"].node(net, resync=True)
    api = node.api()
    info = api.info()
    for f in ("height", "head_hash", "state_root"):
        assert info[f] == chain["info"][f], f
    for p, rec in chain["records"].items():
        assert api.get_json(f"/v1/modules/identity/actors/{p}") == rec
    if edit == "added":
        assert api.get(f"/v1/modules/identity/actors/{key.decode()[-64:]}").status_code == 404
    for tx in chain["txs"]:
        assert api.tx_status(tx.id)["status"] == "committed"
    admin = net.keys["hospital-admin"]
    assert api.next_nonce(admin.public_hex) == BLOCKS + 1
    assert node.stop() == 0
    r = cli.verify(net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    # And it starts normally afterwards.
    node.start()
    assert node.api().info()["head_hash"] == chain["info"]["head_hash"]
    assert node.stop() == 0


# The head record (meta "head") starts with the height as a varint (6 here).
HEAD_EDITS = {
    "height_lower": (0x02, "head"),   # 6 -> 4: names a block whose hash differs
    "height_higher": (0x01, "block 7"),  # 6 -> 7: names a block that does not exist
    "unparsable": (0x80, "head"),     # a continuation bit: the record does not decode
}


@pytest.mark.parametrize("edit", sorted(HEAD_EDITS))
def test_tampered_head_record_is_detected(chain, cli, edit):
    bit, named = HEAD_EDITS[edit]
    net = clone(chain, f"meta-head-{edit}")
    value = ldb_get(db(net), "default", b"head")
    assert value[0] == BLOCKS
    b = bytearray(value)
    b[0] ^= bit
    ldb_put(db(net), "default", b"head", bytes(b))
    r = cli.verify(net.data_dir)
    assert r.returncode != 0, "verify passed a tampered head record"
    assert named in r.stderr, r.stderr
    err = refuses_to_start(cli, net)
    assert named in err, err


def test_tampered_tx_index_is_detected(chain, cli):
    net = clone(chain, "txs-index")
    a, b = chain["txs"][0], chain["txs"][1]
    # Point a's index entry at b's location (block 2, index 0).
    ldb_put(db(net), "txs", bytes.fromhex(a.id), ldb_get(db(net), "txs", bytes.fromhex(b.id)))
    r = cli.verify(net.data_dir)
    assert r.returncode != 0, "verify passed a tampered tx index"


@pytest.mark.parametrize("edit", ["height_lower", "unparsable"])
def test_resync_repairs_a_damaged_head_record_without_losing_blocks(chain, cli, edit):
    # Regression: a head record naming a lower height made --resync drop the
    # good blocks above it. Only the record was damaged: every block stays.
    bit, _ = HEAD_EDITS[edit]
    net = clone(chain, f"meta-head-resync-{edit}")
    b = bytearray(ldb_get(db(net), "default", b"head"))
    b[0] ^= bit
    ldb_put(db(net), "default", b"head", bytes(b))
    node = chain["factory"].node(net, resync=True)
    info = node.api().info()
    for f in ("height", "head_hash", "state_root"):
        assert info[f] == chain["info"][f], f
    assert node.stop() == 0
    r = cli.verify(net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
