"""The consortium cluster on etcd (3 etcd members, 3 nodes): replication,
forwarding, checkpoints and the faults of the cluster issue, each bounded in
time. Fail-over is asserted against the 5 s limit from the moment the
proposer dies to the next block committed by another proposer."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests

import cchelpers
from clusterhelpers import Cluster, Writer, wait_until


@pytest.fixture
def cluster(carechain_bin, tmp_path):
    c = Cluster(carechain_bin, tmp_path)
    yield c
    c.cleanup()


def chain_ids(api, height):
    """Transaction ids of blocks 1..height, in order."""
    ids = []
    for h in range(1, height + 1):
        r = api.block(h)
        assert r.status_code == 200, r.text
        ids += r.json()["tx_ids"]
    return ids


def assert_all_committed_once(cluster, accepted, timeout=60):
    """Every accepted transaction is committed exactly once, and every
    running node holds the identical chain."""
    assert accepted, "the writer got nothing accepted"
    api = cluster.api([i for i, n in enumerate(cluster.nodes) if n.running][0])
    wait_until("every accepted transaction committed",
               lambda: api.get(f"/v1/transactions/{accepted[-1]}").json().get("status") == "committed", timeout)
    height, head_hash, _ = cluster.wait_same_head(timeout=timeout)
    ids = chain_ids(api, height)
    assert len(ids) == len(set(ids)), "a transaction is in the chain twice"
    missing = set(accepted) - set(ids)
    assert not missing, f"{len(missing)} accepted transaction(s) never committed"
    for i, n in enumerate(cluster.nodes):
        if n.running:
            assert cluster.api(i).get_json(f"/v1/blocks/{height}")["hash"] == head_hash


def commit_registrations(cluster, node, count):
    """Commits `count` register_actor transactions of the hospital's admin,
    one after another, through node `node`; returns the last status."""
    key = cluster.net.keys["hospital-admin"]
    api = cluster.api(node)
    n = api.next_nonce(key.public_hex)
    st = None
    for k in range(count):
        st = api.commit(cluster.net.tx(key, n + k, "identity", "register_actor",
                                       {"key": cchelpers.Key().public_hex, "org": "st-marien-hospital",
                                        "role": "provider"}))
    return st


def test_nodes_replicate_forward_and_certify_checkpoints(cluster, tmp_path_factory):
    cluster.start()
    p = cluster.proposer()
    followers = [i for i in range(3) if i != p]
    # A transaction sent to a follower is forwarded, committed once, and
    # every node applies the same block.
    key = cluster.net.keys["hospital-admin"]
    api = cluster.api(followers[0])
    n = api.next_nonce(key.public_hex)
    txs = [cluster.net.tx(key, n + k, "identity", "register_actor",
                          {"key": cchelpers.Key().public_hex, "org": "st-marien-hospital", "role": "provider"})
           for k in range(12)]
    for t in txs:
        r = api.post_raw_tx(t)
        assert r.status_code == 202, r.text
    st = api.wait_committed(txs[-1].id)
    height, head, state = cluster.wait_same_head(st["height"])
    for i in range(3):
        assert cluster.api(i).tx_status(txs[0].id)["status"] == "committed"
    # A request captured on its way to one node does not replay at another:
    # its signature names the node it was meant for (@authority).
    first, second = cluster.nodes[0].url, cluster.nodes[1].url
    h = cchelpers.sign_headers(key, "GET", cchelpers.authority_of(first), "/v1/info")
    assert requests.get(first + "/v1/info", headers=h, timeout=10).status_code == 200
    cchelpers.assert_json_error(requests.get(second + "/v1/info", headers=h, timeout=10), 401, "unauthenticated",
                                "signed for " + cchelpers.authority_of(first))
    # Checkpoints every 5 blocks: make at least 5, then height 5 is
    # certified by all three organisations.
    commit_registrations(cluster, p, 6)
    def certified():
        r = cluster.api(0).get("/v1/checkpoints/5")
        return r.json() if r.status_code == 200 and len(r.json()["signatures"]) == 3 else None
    cp = wait_until("checkpoint 5 signed by every node", certified)
    assert cp["certified"] is True and cp["quorum"] == 2
    assert {s["org"] for s in cp["signatures"]} == {"st-marien-hospital", "apotheke-am-markt", "praxis-dr-koch"}
    assert all(s["agrees"] for s in cp["signatures"])
    assert cp["block_hash"] == cluster.api(1).get_json("/v1/blocks/5")["hash"]
    # The portal's explorer checks the same checkpoint in the browser (web/src/proof.js).
    portal_check = tmp_path_factory.mktemp("portal") / "checkpoint.json"
    portal_check.write_text(json.dumps({"checkpoints": [{"chain_id": cluster.net.chain_id, "checkpoint": cp}]}))
    e2e = os.path.join(os.path.dirname(__file__), "..", "e2e")
    run = subprocess.run(["node", os.path.join(e2e, "portal_crypto.mjs"), str(portal_check)], capture_output=True,
                         text=True, timeout=60, cwd=e2e)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok  checkpoint 5: 3 signatures" in run.stdout and run.stdout.count(" fails\n") == 2, run.stdout
    # Not a checkpoint height: 404 with a JSON reason.
    cchelpers.assert_json_error(cluster.api(0).get("/v1/checkpoints/6"), 404, message_contains="every 5 blocks")
    info = cluster.api(p).info()
    assert info["ordering"] == "etcd" and info["cluster"]["proposer"] is True
    assert wait_until("certified height reported",
                      lambda: cluster.api(0).info()["cluster"]["last_certified"] >= 5)


def test_kill9_proposer_under_load_fails_over_within_5s(cluster):
    cluster.start()
    p = cluster.proposer()
    target = [i for i in range(3) if i != p][0]
    w = Writer(cluster, targets=[target])
    w.start()
    api = cluster.api(target)
    wait_until("load committing", lambda: len(w.accepted) > 50 and api.info()["height"] >= 5)
    dead_key = cluster.api(p).info()["node_key"]
    killed_at = time.time()
    cluster.nodes[p].kill9()
    # Fail-over time: from the kill to the time of the first block another
    # proposer wrote (the block's own time, stamped by that proposer on this
    # machine's clock; polling delays do not count).
    def first_new_block():
        latest = api.get_json("/v1/blocks/latest")
        if latest["header"]["proposer"] == dead_key:
            return None
        h = latest["header"]["height"]
        while h > 1:
            prev = api.get_json(f"/v1/blocks/{h - 1}")
            if prev["header"]["proposer"] == dead_key:
                break
            latest, h = prev, h - 1
        return latest
    block = wait_until("a block from another proposer", first_new_block, timeout=15, interval=0.05)
    failover = block["header"]["time_ms"] / 1000 - killed_at
    assert failover <= 5.0, f"fail-over took {failover:.2f} s"
    assert cluster.proposer(timeout=10) != p
    wait_until("more load after fail-over", lambda: len(w.accepted) > 200, timeout=30)
    w.stop()
    # The dead node restarts, catches up; nothing lost or duplicated.
    cluster.nodes[p].start()
    assert_all_committed_once(cluster, w.accepted)


def test_kill_etcd_leader_under_load_writes_continue_and_it_rejoins(cluster):
    cluster.start()
    w = Writer(cluster, targets=[0, 1, 2])
    w.start()
    api = cluster.api(0)
    wait_until("load committing", lambda: len(w.accepted) > 30)
    leader = cluster.etcd_leader()
    cluster.kill_etcd(leader)
    h = api.info()["height"]
    wait_until("blocks after the etcd leader died", lambda: api.info()["height"] >= h + 5, timeout=20)
    assert len(cluster.etcd_status()) == 2
    cluster.restart_etcd()
    wait_until("the member rejoined", lambda: len(cluster.etcd_status()) == 3, timeout=30)
    # The restarted member serves the same data as the others.
    h2 = api.info()["height"]
    wait_until("blocks after the member rejoined", lambda: api.info()["height"] >= h2 + 3, timeout=20)
    w.stop()
    assert_all_committed_once(cluster, w.accepted)


def test_killed_follower_restarts_catches_up_and_certifies(cluster):
    cluster.start()
    p = cluster.proposer()
    f = [i for i in range(3) if i != p][0]
    other = 3 - p - f
    w = Writer(cluster, targets=[other])
    w.start()
    wait_until("load committing", lambda: len(w.accepted) > 30)
    cluster.nodes[f].kill9()
    h = cluster.api(other).info()["height"]
    wait_until("the chain moves on without it", lambda: cluster.api(other).info()["height"] >= h + 10, timeout=30)
    cluster.nodes[f].start()
    w.stop()
    height, _, _ = cluster.wait_same_head(h + 10)
    # It signs checkpoints again, agreeing with the others.
    cp_height = (height // 5) * 5
    def signed_by_f():
        r = cluster.api(f).get(f"/v1/checkpoints/{cp_height}")
        if r.status_code != 200:
            return None
        sigs = {s["node"]: s for s in r.json()["signatures"]}
        me = cluster.api(f).info()["node_key"]
        return r.json() if me in sigs and sigs[me]["agrees"] else None
    cp = wait_until("the restarted node's checkpoint", signed_by_f)
    assert cp["certified"] is True
    assert_all_committed_once(cluster, w.accepted)


def test_proposer_paused_longer_than_its_lease_causes_no_split_brain(cluster):
    cluster.start()
    p = cluster.proposer()
    target = [i for i in range(3) if i != p][0]
    w = Writer(cluster, targets=[target])
    w.start()
    wait_until("load committing", lambda: len(w.accepted) > 30)
    os.kill(cluster.nodes[p].proc.pid, signal.SIGSTOP)
    try:
        new_p = cluster.proposer(timeout=15, exclude=(p,))
        assert new_p != p
        h = cluster.api(target).info()["height"]
        wait_until("blocks from the new proposer", lambda: cluster.api(target).info()["height"] >= h + 5)
    finally:
        os.kill(cluster.nodes[p].proc.pid, signal.SIGCONT)
    # The paused node wakes up believing it leads; etcd refuses its writes
    # (its election key is gone), it steps down and follows.
    wait_until("the paused node follows again",
               lambda: cluster.api(p).info()["cluster"]["proposer"] is False, timeout=15)
    w.stop()
    assert_all_committed_once(cluster, w.accepted)
    # One block per height in etcd, and every node holds exactly those.
    height = cluster.api(0).info()["height"]
    blocks = cluster.etcd_get(f"/carechain/{cluster.net.chain_id}/blocks/", keys_only=True)
    assert len(blocks) == height
    assert all(cluster.api(i).info()["cluster"]["diverged"] is False for i in range(3))


def test_node_outside_the_certified_checkpoint_raises_the_alarm(cluster):
    cluster.start()
    key = cluster.net.keys["hospital-admin"]
    api = cluster.api(0)
    commit_registrations(cluster, 0, 6)
    n = api.next_nonce(key.public_hex)
    wait_until("checkpoint 5 certified",
               lambda: api.get("/v1/checkpoints/5").status_code == 200 and
               api.get_json("/v1/checkpoints/5")["certified"])
    # Nodes 2 and 3 (two organisations: a quorum) sign another block hash for
    # height 5. Node 1 now finds itself outside the certified checkpoint.
    forged = "ab" * 32
    state = api.get_json("/v1/blocks/5")["header"]["state_root"]
    for i in (2, 3):
        k = cluster.net.keys[f"node-{i}"]
        msg = (b"carechain:checkpoint:v1" + cchelpers.lenbytes(cluster.net.chain_id.encode()) +
               (5).to_bytes(8, "big") + bytes.fromhex(forged) + bytes.fromhex(state))
        body = {"height": 5, "block_hash": forged, "state_root": state, "node": k.public_hex,
                "signature": k.sign(msg).hex()}
        cluster.etcd_put(f"/carechain/{cluster.net.chain_id}/checkpoints/{5:020d}/{k.public_hex}",
                         cchelpers.canonical_json(body).decode())
    wait_until("node 1 raises the alarm", lambda: api.get("/healthz").status_code == 503)
    health = api.get("/healthz").json()
    assert health["status"] == "diverged" and "quorum" in health["message"], health
    assert "carechain_divergence_alarm 1" in api.get("/metrics").text
    # It refuses writes with a JSON reason, and changes nothing.
    tx = cluster.net.tx(key, n, "identity", "register_actor",
                        {"key": cchelpers.Key().public_hex, "org": "st-marien-hospital", "role": "provider"})
    cchelpers.assert_json_error(api.post_raw_tx(tx), 503, message_contains="checkpoints")
    assert api.info()["cluster"]["diverged"] is True
    # The quorum's nodes carry on; each noticed a checkpoint under its own
    # key that it did not sign, and kept its own.
    for i in (1, 2):
        assert cluster.api(i).get("/healthz").status_code == 200
        wait_until("the forged own checkpoint reported", lambda: "did not sign" in cluster.nodes[i].new_stdout())


def test_etcd_is_compacted_and_a_node_from_genesis_catches_up_from_peers(carechain_bin, tmp_path):
    c = Cluster(carechain_bin, tmp_path, checkpoint_interval=5, extra_ordering="retain_blocks = 5\n")
    try:
        c.start()
        commit_registrations(c, 0, 40)
        height, _, _ = c.wait_same_head(40)
        prefix = f"/carechain/{c.net.chain_id}/blocks/"
        # Blocks below (lowest checkpoint every node signed - 5) leave etcd.
        kept = wait_until("old blocks deleted from etcd",
                          lambda: (lambda ks: ks if len(ks) <= height - 20 else None)(
                              c.etcd_get(prefix, keys_only=True)), timeout=30)
        assert len(kept) >= 5
        # Node 3 loses its disk: it starts from genesis, takes the blocks etcd
        # no longer has from the other nodes, checks them all, and agrees.
        c.nodes[2].stop()
        shutil.rmtree(os.path.join(c.net.dir, "node-3-data"))
        c.nodes[2].start()
        h, head, state = c.wait_same_head(height)
        assert h >= height
        assert "fetching them from" in c.nodes[2].new_stdout() + c.nodes[2].new_stderr()
        assert c.api(2).info()["cluster"]["diverged"] is False
    finally:
        c.cleanup()


def test_state_altered_while_stopped_is_refused_and_resync_rejoins(cluster):
    cluster.start()
    p = cluster.proposer()
    f = [i for i in range(3) if i != p][0]
    commit_registrations(cluster, p, 6)
    cluster.wait_same_head(6)
    cluster.nodes[f].stop()
    db = os.path.join(cluster.net.dir, f"node-{f + 1}-data", "chain")
    # Change one actor's role in the stopped node's state store.
    actor_key = next(k for k in cchelpers._ldb(f"--db={db}", "--column_family=state", "scan").splitlines()
                     if "identity/actor/" in k).split(" ==> ")[0]
    cchelpers._ldb(f"--db={db}", "--column_family=state", "put", actor_key, '{"role":"admin"}')
    node = cluster.nodes[f]
    node.start(wait=False)
    assert node.proc.wait(timeout=60) != 0
    assert "state store does not match" in node.new_stderr() + node.new_stdout()
    # --resync rebuilds the state from the blocks; the node rejoins and its
    # checkpoints agree with the others' again.
    node.start(resync=True)
    cluster.wait_same_head(6)
    assert cluster.api(f).info()["cluster"]["diverged"] is False
