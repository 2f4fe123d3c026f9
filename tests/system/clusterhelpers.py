"""A consortium cluster for system tests: 3 etcd members (scripts/cluster
etcd) and 3 carechain nodes from `carechain demo init --nodes 3`, all on
127.0.0.1 in one temporary folder, with a writer that submits a steady
stream of transactions.
"""
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time

import cchelpers

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLUSTER = os.path.join(REPO_ROOT, "scripts", "cluster")
ETCDCTL = "/usr/bin/etcdctl"


def free_port_block(n):
    """A base port with n consecutive free ports after it."""
    for _ in range(200):
        base = random.randrange(30000, 60000, 2)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no block of free ports")


def wait_until(what, fn, timeout=30, interval=0.05):
    """Polls fn() until it returns a true value; returns that value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


class Cluster:
    def __init__(self, binary, base_dir, checkpoint_interval=5, lease_ttl_s=2, extra_ordering=""):
        self.binary = binary
        self.dir = str(base_dir)
        self.etcd_dir = os.path.join(self.dir, "etcd")
        self.base_port = free_port_block(6)
        self.endpoints = self._run_cluster("etcd").strip().splitlines()[-1]
        demo = os.path.join(self.dir, "demo")
        r = subprocess.run([binary, "demo", "init", "--dir", demo, "--nodes", "3", "--port", "0",
                            "--etcd", self.endpoints], capture_output=True, text=True,
                           timeout=cchelpers.CLI_TIMEOUT)
        assert r.returncode == 0, r.stderr
        for i in range(1, 4):
            path = os.path.join(demo, f"node-{i}.toml")
            with open(path) as f:
                text = f.read()
            text = text.replace("block_interval_ms = 10\n",
                                f"block_interval_ms = 10\ncheckpoint_interval = {checkpoint_interval}\n"
                                f"lease_ttl_s = {lease_ttl_s}\n{extra_ordering}")
            with open(path, "w") as f:
                f.write(text)
        self.net = cchelpers.Network(demo)
        self.nodes = [cchelpers.Node(binary, self.net, os.path.join(demo, f"node-{i}.toml"), name=f"node-{i}")
                      for i in range(1, 4)]

    def _run_cluster(self, cmd):
        r = subprocess.run([CLUSTER, cmd, self.etcd_dir, str(self.base_port)], capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, f"scripts/cluster {cmd}: {r.stderr}"
        return r.stdout

    def start(self):
        for n in self.nodes:
            n.start(wait=False)
        for n in self.nodes:
            n.wait_listening()
        return self

    def api(self, i, key="default"):
        return self.nodes[i].api(key)

    def infos(self, exclude=()):
        """/v1/info of every running node not in `exclude` (a paused node would
        not answer) that answers within 2 s."""
        out = {}
        for i, n in enumerate(self.nodes):
            if not n.running or i in exclude:
                continue
            try:
                out[i] = self.api(i).get_json("/v1/info", timeout=2)
            except Exception:  # noqa: BLE001 - a node between states
                pass
        return out

    def proposer(self, timeout=30, exclude=()):
        """The index of the node that is proposer (exactly one among the
        running ones not in `exclude`)."""
        def one():
            props = [i for i, info in self.infos(exclude).items()
                     if info.get("cluster", {}).get("proposer")]
            return props[0] + 1 if len(props) == 1 else None
        return wait_until("one proposer", one, timeout) - 1

    def wait_same_head(self, min_height=0, timeout=60):
        """Waits until every running node has the same head at >= min_height; returns it."""
        def same():
            infos = self.infos()
            heads = {(i["height"], i["head_hash"], i["state_root"]) for i in infos.values()}
            running = sum(1 for n in self.nodes if n.running)
            if len(infos) == running and len(heads) == 1:
                h = next(iter(heads))
                return h if h[0] >= min_height else None
            return None
        return wait_until("identical heads", same, timeout, interval=0.1)

    # etcd members

    def etcd_status(self):
        r = subprocess.run([ETCDCTL, "--endpoints", self.endpoints, "--command-timeout=2s", "endpoint",
                            "status", "-w", "json"], capture_output=True, text=True, timeout=30)
        return json.loads(r.stdout) if r.stdout.strip() else []

    def etcd_leader(self):
        """Member number (1..3) of etcd's raft leader."""
        def leader():
            for st in self.etcd_status():
                s = st["Status"]
                if s["header"]["member_id"] == s["leader"]:
                    port = int(st["Endpoint"].rsplit(":", 1)[1])
                    return (port - self.base_port) // 2 + 1
            return None
        return wait_until("an etcd leader", leader, 30)

    def kill_etcd(self, member):
        with open(os.path.join(self.etcd_dir, f"etcd-{member}.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGKILL)
        wait_until("etcd member gone", lambda: not os.path.exists(f"/proc/{pid}") or
                   open(f"/proc/{pid}/stat").read().split()[2] == "Z", 10)

    def restart_etcd(self):
        self._run_cluster("etcd")

    def etcd_get(self, prefix, keys_only=False):
        args = [ETCDCTL, "--endpoints", self.endpoints, "get", "--prefix", prefix, "-w", "json"]
        if keys_only:
            args.append("--keys-only")
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout).get("kvs", [])

    def etcd_put(self, key, value):
        r = subprocess.run([ETCDCTL, "--endpoints", self.endpoints, "put", key], input=value,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr

    def cleanup(self):
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None:
                try:
                    os.kill(n.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            n.cleanup()
        subprocess.run([CLUSTER, "stop", self.etcd_dir, str(self.base_port)], capture_output=True,
                       timeout=120)


class Writer(threading.Thread):
    """Submits register_actor transactions signed by `signer` (a demo admin)
    one after another to the nodes in `targets` (indexes; the first that
    answers), recording every transaction a node accepted (202)."""

    def __init__(self, cluster, signer="hospital-admin", targets=(0,), org="st-marien-hospital",
                 start_nonce=None):
        super().__init__(daemon=True)
        self.c = cluster
        self.key = cluster.net.keys[signer]
        self.targets = list(targets)
        self.org = org
        self.accepted = []  # tx ids
        self.errors = []
        self.stop_flag = threading.Event()
        self.nonce = start_nonce
        self.apis = {}

    def _api(self, i):
        if i not in self.apis:
            self.apis[i] = cchelpers.Api(self.c.nodes[i].url, self.key)
        return self.apis[i]

    def run(self):
        if self.nonce is None:
            self.nonce = self._api(self.targets[0]).next_nonce(self.key.public_hex)
        while not self.stop_flag.is_set():
            tx = self.c.net.tx(self.key, self.nonce, "identity", "register_actor",
                               {"key": cchelpers.Key().public_hex, "org": self.org, "role": "provider"})
            sent = False
            for i in self.targets:
                if not self.c.nodes[i].running:
                    continue
                try:
                    r = self._api(i).post_raw_tx(tx, timeout=5)
                except Exception as e:  # noqa: BLE001 - a node going down mid-request
                    self.errors.append(repr(e))
                    continue
                already = r.status_code == 409 and r.json().get("code") == "already_exists"
                if r.status_code == 202 or already:  # already: an earlier reply was lost
                    self.accepted.append(tx.id)
                    self.nonce += 1
                    sent = True
                    break
                self.errors.append(f"{r.status_code} {r.text}")
            if not sent:
                time.sleep(0.05)  # every target down or refusing: retry the same transaction
            else:
                time.sleep(0.005)  # a steady, modest rate

    def stop(self):
        self.stop_flag.set()
        self.join(timeout=30)
        for a in self.apis.values():
            a.close()
