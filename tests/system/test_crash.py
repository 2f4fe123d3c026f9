"""Crash safety: kill -9 a node under load, over and over, and check that no
transaction the API reported as committed is ever lost or moved.

Each round starts the node on the same data folder, runs a load of many
actors from background threads (single transactions with ?wait=commit, and
batches followed through a block long-poll), kills the node with SIGKILL at a
random moment, and checks on restart that every transaction recorded as
committed is still committed at the same height. Every few rounds the killed
store is also re-verified offline (`carechain verify`). At the end the node
stops cleanly and the whole chain verifies.

CARECHAIN_CRASH_ROUNDS and CARECHAIN_CRASH_SEED override the defaults.
"""
import os
import random
import threading
import time

import requests

from cchelpers import Key, batch_body, signed_session

ROUNDS = int(os.environ.get("CARECHAIN_CRASH_ROUNDS", "22"))
ORGS = [("org-a", 4), ("org-b", 4), ("org-c", 4)]
HTTP_TIMEOUT = (3, 20)


class Load:
    """Background load against one node run. Records every transaction the
    API showed as committed: {txid: height}."""

    def __init__(self, url, net, actors, batcher, rng, start_height):
        self.url = url
        self.net = net
        self.actors = actors          # [(Key, org)]
        self.batcher = batcher        # (Key, org): sends batches
        self.rng = random.Random(rng.random())
        self.start_height = start_height
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.committed = {}           # txid -> height (GUARDED_BY lock)
        self.by_wait = 0              # 200 from ?wait=commit
        self.by_block = 0             # seen in a block from the long-poll
        self.rejected = 0             # committed with a rejection result
        self.errors = []              # unexpected replies (not connection errors)
        self.threads = []
        self.known_keys = []          # registered keys, to provoke rejections

    def record(self, txid, height, via):
        with self.lock:
            old = self.committed.setdefault(txid, height)
            if old != height:
                self.errors.append(f"{txid} reported at heights {old} and {height}")
            if via == "wait":
                self.by_wait += 1
            else:
                self.by_block += 1

    def start(self):
        n_workers = 4
        for i in range(n_workers):
            mine = self.actors[i::n_workers]
            self.threads.append(threading.Thread(target=self._worker, args=(mine, i), daemon=True))
        self.threads.append(threading.Thread(target=self._batches, daemon=True))
        self.threads.append(threading.Thread(target=self._watch_blocks, daemon=True))
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
            assert not t.is_alive(), "a load thread did not finish"

    def _payload(self, org, rng):
        if self.known_keys and rng.random() < 0.1:
            # Registering a key twice: committed with a rejection.
            key = rng.choice(self.known_keys)
        else:
            key = os.urandom(32).hex()
        return {"key": key, "org": org, "role": rng.choice(["patient", "provider", "auditor"])}

    def _worker(self, actors, seed):
        rng = random.Random(self.rng.random() + seed)
        s = signed_session(actors[0][0])  # an admin: reads nonces, submits
        try:
            nonces = {k.public_hex: s.get(f"{self.url}/v1/actors/{k.public_hex}/nonce",
                                          timeout=HTTP_TIMEOUT).json()["next_nonce"]
                      for k, _ in actors}
            while not self.stop.is_set():
                for key, org in actors:
                    payload = self._payload(org, rng)
                    tx = self.net.tx(key, nonces[key.public_hex], "identity", "register_actor",
                                     payload)
                    r = s.post(f"{self.url}/v1/transactions?wait=commit", data=tx.raw,
                               headers={"Content-Type": "application/octet-stream"},
                               timeout=HTTP_TIMEOUT)
                    if r.status_code == 200:
                        st = r.json()
                        if st["status"] != "committed" or st["id"] != tx.id:
                            self.errors.append(f"200 without commit: {st}")
                            continue
                        self.record(tx.id, st["height"], "wait")
                        if st["result"]["code"] == "ok":
                            self.known_keys.append(payload["key"])
                        else:
                            self.rejected += 1
                        nonces[key.public_hex] += 1
                    elif r.status_code == 202:
                        nonces[key.public_hex] += 1  # accepted, still pending
                    else:
                        self.errors.append(f"submit -> {r.status_code}: {r.text}")
                        nonces[key.public_hex] = s.get(
                            f"{self.url}/v1/actors/{key.public_hex}/nonce",
                            timeout=HTTP_TIMEOUT).json()["next_nonce"]
        except requests.exceptions.RequestException:
            pass  # the node was killed
        finally:
            s.close()

    def _batches(self):
        rng = random.Random(self.rng.random())
        key, org = self.batcher
        s = signed_session(key)
        try:
            nonce = s.get(f"{self.url}/v1/actors/{key.public_hex}/nonce",
                          timeout=HTTP_TIMEOUT).json()["next_nonce"]
            while not self.stop.is_set():
                n = rng.randint(5, 40)
                txs = [self.net.tx(key, nonce + i, "identity", "register_actor",
                                   self._payload(org, rng)) for i in range(n)]
                r = s.post(f"{self.url}/v1/transactions/batch", data=batch_body([t.raw for t in txs]),
                           headers={"Content-Type": "application/octet-stream"}, timeout=HTTP_TIMEOUT)
                res = r.json()
                if r.status_code != 202 or res["accepted"] != n:
                    self.errors.append(f"batch -> {r.status_code}: {r.text[:500]}")
                    return
                nonce += n
                # Follow the last one until it is in a block (the watcher
                # records the ids), so batches do not pile up unboundedly.
                deadline = time.monotonic() + 10
                while not self.stop.is_set() and time.monotonic() < deadline:
                    with self.lock:
                        if txs[-1].id in self.committed:
                            break
                    st = s.get(f"{self.url}/v1/transactions/{txs[-1].id}", timeout=HTTP_TIMEOUT)
                    if st.status_code == 200 and st.json()["status"] == "committed":
                        break
                    time.sleep(0.005)
        except requests.exceptions.RequestException:
            pass
        finally:
            s.close()

    def _watch_blocks(self):
        s = signed_session(self.net.keys["node"])  # a node key reads the chain
        h = self.start_height + 1
        try:
            while not self.stop.is_set():
                r = s.get(f"{self.url}/v1/blocks/{h}?wait_ms=300", timeout=HTTP_TIMEOUT)
                if r.status_code == 404:
                    continue
                if r.status_code != 200:
                    self.errors.append(f"block {h} -> {r.status_code}: {r.text}")
                    return
                blk = r.json()
                if blk["header"]["height"] != h:
                    self.errors.append(f"asked for block {h}, got {blk['header']['height']}")
                for txid in blk["tx_ids"]:
                    self.record(txid, h, "block")
                h += 1
        except requests.exceptions.RequestException:
            pass
        finally:
            s.close()


def check_committed(url, expected, what, reader):
    """Every txid in `expected` is committed at its recorded height."""
    s = signed_session(reader)
    missing = []
    try:
        for txid, height in expected.items():
            r = s.get(f"{url}/v1/transactions/{txid}", timeout=HTTP_TIMEOUT)
            st = r.json() if r.status_code == 200 else {"status": f"HTTP {r.status_code}"}
            if st["status"] != "committed" or st["height"] != height:
                missing.append((txid, height, st.get("status"), st.get("height")))
    finally:
        s.close()
    assert not missing, (f"{what}: {len(missing)} of {len(expected)} committed transactions lost "
                         f"or moved, e.g. {missing[:5]}")


def scan_chain(url, head, reader):
    """{txid: height} of every transaction in blocks 1..head."""
    s = signed_session(reader)
    out = {}
    try:
        for h in range(1, head + 1):
            r = s.get(f"{url}/v1/blocks/{h}", timeout=HTTP_TIMEOUT)
            assert r.status_code == 200, f"block {h}: {r.status_code} {r.text}"
            for txid in r.json()["tx_ids"]:
                assert txid not in out, f"{txid} in blocks {out[txid]} and {h}"
                out[txid] = h
    finally:
        s.close()
    return out


def test_kill9_under_load_loses_no_committed_transaction(node_factory, cli):
    seed = int(os.environ.get("CARECHAIN_CRASH_SEED", str(time.time_ns() % 10 ** 9)))
    rng = random.Random(seed)
    orgs = [(org, [f"{org}-admin{i}" for i in range(n)]) for org, n in ORGS]
    orgs[0][1].append("batcher")
    net = node_factory.custom("crash", orgs, block_interval_ms=10)
    actors = [(net.keys[name], org) for org, names in orgs for name in names if name != "batcher"]
    batcher = (net.keys["batcher"], orgs[0][0])
    assert len(actors) >= 12
    node = node_factory.node(net, start=False)

    recorded = {}      # every committed txid seen in any round -> height
    last_round = {}
    max_height = 0
    totals = {"wait": 0, "block": 0, "rejected": 0}
    for rnd in range(ROUNDS):
        ctx = f"seed {seed}, round {rnd}"
        node.start()
        api = node.api()
        info = api.info()
        assert info["height"] >= max_height, f"{ctx}: head went back from {max_height} to {info['height']}"
        check_committed(node.url, last_round, ctx, net.keys["node"])

        load = Load(node.url, net, actors, batcher, rng, info["height"])
        load.start()
        # Kill at a random moment while the load runs (at least one commit
        # first, so that each round has something to lose).
        deadline = time.monotonic() + 20
        while not load.committed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert load.committed, f"{ctx}: no commit within 20 s of load"
        time.sleep(rng.uniform(0.2, 2.0))
        node.kill9()
        load.join()
        assert not load.errors, f"{ctx}: {load.errors[:5]}"

        last_round = dict(load.committed)
        for txid, h in last_round.items():
            assert recorded.setdefault(txid, h) == h, f"{ctx}: {txid} moved"
        max_height = max([max_height] + list(last_round.values()))
        totals["wait"] += load.by_wait
        totals["block"] += load.by_block
        totals["rejected"] += load.rejected

        if rnd % 5 == 4:
            # The killed store, before any restart, verifies in full.
            r = cli.verify(net.data_dir)
            assert r.returncode == 0, f"{ctx}: verify after kill -9 failed:\n{r.stdout}{r.stderr}"

    # Final restart: everything from every round is still there, at the
    # height it was reported at, and nonces continue.
    node.start()
    api = node.api()
    info = api.info()
    assert info["height"] >= max_height
    check_committed(node.url, last_round, f"seed {seed}, final", net.keys["node"])
    # The tx index answers for earlier rounds too (a sample: GETs are slow in Python).
    sample = dict(rng.sample(sorted(recorded.items()), min(2000, len(recorded))))
    check_committed(node.url, sample, f"seed {seed}, final sample", net.keys["node"])
    chain = scan_chain(node.url, info["height"], net.keys["node"])
    lost = [t for t, h in recorded.items() if chain.get(t) != h]
    assert not lost, f"seed {seed}: {len(lost)} committed transactions lost or moved: {lost[:5]}"
    # The load was real: many commits through both paths, some rejections.
    assert totals["wait"] >= 10 * ROUNDS and totals["block"] >= 10 * ROUNDS, totals
    assert totals["rejected"] > 0, totals
    key, org = actors[0]
    n = api.next_nonce(key.public_hex)
    st = api.commit(net.tx(key, n, "identity", "register_actor",
                           {"key": Key().public_hex, "org": org, "role": "patient"}))
    assert st["height"] == info["height"] + 1

    assert node.stop() == 0
    r = cli.verify(net.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    print(f"crash test: seed {seed}, {ROUNDS} rounds, {len(recorded)} committed transactions "
          f"checked, height {info['height'] + 1}, {totals}")
