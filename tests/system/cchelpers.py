"""Helpers for carechain's system tests: keys, the transaction encoding,
networks (demo or hand-written genesis), node processes, the HTTP API, the
CLI and the offline RocksDB tool (ldb).

Everything runs on loopback with port 0; every node lives in its own folder.
Waiting is done by polling with a deadline or by the API's own long polls,
never by a fixed sleep.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.parse

import base64
import secrets

import requests
from nacl.signing import SigningKey
from requests.auth import AuthBase

TX_DOMAIN = b"carechain:tx:v1"
LISTEN_RE = re.compile(rb"carechain node listening on (https?://127\.0\.0\.1:(\d+))")
LDB = shutil.which("ldb") or "/usr/bin/ldb"

# Time limits (seconds). Generous: the suite runs on 2 busy cores.
START_TIMEOUT = 30
STOP_TIMEOUT = 30
CLI_TIMEOUT = 120


# --------------------------------------------------------------------------
# Keys and canonical encodings


class Key:
    """An Ed25519 key as carechain's key files hold it."""

    def __init__(self, signing_key=None):
        self.sk = signing_key or SigningKey.generate()

    @classmethod
    def from_file(cls, path):
        with open(path) as f:
            j = json.load(f)
        assert j["type"] == "ed25519"
        k = cls(SigningKey(bytes.fromhex(j["seed"])))
        assert k.public_hex == j["public_key"], f"{path}: public key does not match the seed"
        return k

    @property
    def public(self):
        return bytes(self.sk.verify_key)

    @property
    def public_hex(self):
        return self.public.hex()

    def sign(self, message):
        return self.sk.sign(message).signature

    def write(self, path):
        body = json.dumps({"type": "ed25519", "public_key": self.public_hex,
                           "seed": bytes(self.sk).hex()}, indent=2) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(body)


def canonical_json(obj):
    """carechain's canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def varint(n):
    """Unsigned LEB128, minimal."""
    assert n >= 0
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def lenbytes(b, length=None):
    """A `bytes` field: varint length (or raw length bytes given), then b."""
    return (varint(len(b)) if length is None else length) + b


class Tx:
    """A signed transaction: .raw (binary encoding), .id, .json (API form)."""

    def __init__(self, raw, body):
        self.raw = raw
        self.id = hashlib.blake2b(raw, digest_size=32).hexdigest()
        self.body = body  # the logical fields, for the JSON form

    @property
    def json(self):
        b = self.body
        return {"chain_id": b["chain_id"], "actor": b["actor"], "nonce": b["nonce"],
                "module": b["module"], "action": b["action"], "payload": b["payload"],
                "signature": self.raw[-64:].hex()}


def encode_unsigned(chain_id, actor, nonce, module, action, payload_bytes, *, version=1,
                    nonce_raw=None, chain_len_raw=None):
    """The bytes the signature covers. nonce_raw / chain_len_raw replace the
    minimal varints (to build non-canonical encodings)."""
    return (bytes([version]) + lenbytes(chain_id.encode(), chain_len_raw) + actor +
            (varint(nonce) if nonce_raw is None else nonce_raw) +
            lenbytes(module.encode()) + lenbytes(action.encode()) + lenbytes(payload_bytes))


def make_tx(key, chain_id, nonce, module, action, payload, *, payload_bytes=None, sign_with=None,
            **raw_overrides):
    """Builds and signs a transaction. payload_bytes overrides the canonical
    payload (for non-canonical payloads); sign_with signs with another key."""
    pb = canonical_json(payload) if payload_bytes is None else payload_bytes
    unsigned = encode_unsigned(chain_id, key.public, nonce, module, action, pb, **raw_overrides)
    sig = (sign_with or key).sign(TX_DOMAIN + unsigned)
    body = {"chain_id": chain_id, "actor": key.public_hex, "nonce": nonce, "module": module,
            "action": action, "payload": payload}
    return Tx(unsigned + sig, body)


def tx_encoded_size(chain_id, nonce, module, action, payload_len):
    return (1 + len(varint(len(chain_id))) + len(chain_id) + 32 + len(varint(nonce)) +
            1 + len(module) + 1 + len(action) + len(varint(payload_len)) + payload_len + 64)


def batch_body(raws):
    return b"".join(varint(len(r)) + r for r in raws)


# --------------------------------------------------------------------------
# Networks and nodes


def write_node_toml(path, *, data_dir="node-data", key_file="keys/node.key",
                    genesis="genesis.json", block_interval_ms=10, max_block_txs=2000,
                    threads=16, log_level="info", tls_cert=None, tls_key=None,
                    offchain_engine=None, postgres=None, flush_interval_ms=None, portal_dir=None):
    text = (
        "[node]\n"
        f'data_dir = "{data_dir}"\n'
        f'key_file = "{key_file}"\n'
        f'genesis = "{genesis}"\n\n'
        "[api]\n"
        'host = "127.0.0.1"\n'
        "port = 0\n"
        f"threads = {threads}\n"
        + (f'tls_cert = "{tls_cert}"\ntls_key = "{tls_key}"\n' if tls_cert else "")
        + (f'portal_dir = "{portal_dir}"\n' if portal_dir else "")
        + "\n"
        "[ordering]\n"
        'backend = "solo"\n'
        f"max_block_txs = {max_block_txs}\n"
        f"block_interval_ms = {block_interval_ms}\n\n"
        "[log]\n"
        f'level = "{log_level}"\n')
    if offchain_engine or flush_interval_ms:
        text += "\n[offchain]\n"
        if offchain_engine:
            text += f'engine = "{offchain_engine}"\n'
        if postgres:
            text += f'postgres = "{postgres}"\n'
        if flush_interval_ms:
            text += f"flush_interval_ms = {flush_interval_ms}\n"
    with open(path, "w") as f:
        f.write(text)


class Network:
    """A folder with genesis.json, node.toml and keys/*.key."""

    def __init__(self, directory):
        self.dir = str(directory)
        self.genesis_path = os.path.join(self.dir, "genesis.json")
        self.config_path = os.path.join(self.dir, "node.toml")
        with open(self.genesis_path) as f:
            self.genesis = json.load(f)
        self.chain_id = self.genesis["chain_id"]
        self.keys = {}
        keydir = os.path.join(self.dir, "keys")
        for name in sorted(os.listdir(keydir)):
            if name.endswith(".key"):
                self.keys[name[:-4]] = Key.from_file(os.path.join(keydir, name))

    def key_path(self, name):
        return os.path.join(self.dir, "keys", name + ".key")

    @property
    def data_dir(self):
        return os.path.join(self.dir, "node-data")

    def tx(self, key, nonce, module, action, payload, **kw):
        return make_tx(key, self.chain_id, nonce, module, action, payload, **kw)


class Node:
    """A `carechain node` process. stdout and stderr go to files (never to
    pipes, which would block a chatty node once full)."""

    def __init__(self, binary, network, config_path=None, name="node"):
        self.binary = binary
        self.network = network
        self.config_path = config_path or network.config_path
        self.out_path = os.path.join(network.dir, name + ".stdout")
        self.err_path = os.path.join(network.dir, name + ".stderr")
        self.proc = None
        self.url = None
        self.port = None
        self._out_offset = 0
        self._apis = []

    def start(self, resync=False, wait=True):
        assert not self.running, "node already running"
        self._out_offset = os.path.getsize(self.out_path) if os.path.exists(self.out_path) else 0
        self._err_offset = os.path.getsize(self.err_path) if os.path.exists(self.err_path) else 0
        args = [self.binary, "node", "--config", self.config_path] + (["--resync"] if resync else [])
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         cwd=self.network.dir)
        self.url = None
        if wait:
            self.wait_listening()
        return self

    def wait_listening(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.out_path, "rb") as f:
                f.seek(self._out_offset)
                m = LISTEN_RE.search(f.read())
            if m:
                self.url = m.group(1).decode()
                self.port = int(m.group(2))
                return self.url
            if self.proc.poll() is not None:
                raise AssertionError(f"node exited with {self.proc.returncode} before listening:\n"
                                     + self.new_stderr())
            time.sleep(0.02)
        raise AssertionError(f"node did not print its listening line within {timeout} s:\n"
                             + self.new_stderr())

    def new_stderr(self):
        with open(self.err_path, "rb") as f:
            f.seek(self._err_offset)
            return f.read().decode(errors="replace")

    def new_stdout(self):
        with open(self.out_path, "rb") as f:
            f.seek(self._out_offset)
            return f.read().decode(errors="replace")

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGINT, timeout=STOP_TIMEOUT):
        """Stops the node with `sig` and returns its exit code."""
        assert self.running, "node is not running"
        # Idle keep-alive connections hold the node's HTTP workers (up to its
        # keep-alive timeout) before it can stop: close ours first.
        for a in self._apis:
            a.close()
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"node ignored signal {sig} for {timeout} s")

    def kill9(self):
        assert self.running, "node is not running"
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=STOP_TIMEOUT)

    def default_signer(self):
        """The key the test API signs with: an organisation admin (it may read
        the chain and submit), else the node key."""
        keys = self.network.keys
        for name in ["hospital-admin"] + sorted(k for k in keys if "admin" in k) + ["node"]:
            if name in keys:
                return keys[name]
        return None

    def api(self, key="default"):
        assert self.url, "node is not listening"
        a = Api(self.url, self.default_signer() if key == "default" else key)
        self._apis.append(a)
        return a

    def cleanup(self):
        for a in self._apis:
            a.close()
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NodeFactory:
    def __init__(self, binary, base_dir):
        self.binary = binary
        self.base = str(base_dir)
        self.nodes = []

    def demo(self, name="net", **toml):
        """`carechain demo init` in a fresh folder; node.toml rewritten with
        `toml` settings if any are given."""
        d = os.path.join(self.base, name)
        r = subprocess.run([self.binary, "demo", "init", "--dir", d, "--port", "0"],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT)
        assert r.returncode == 0, r.stderr
        if toml:
            write_node_toml(os.path.join(d, "node.toml"), **toml)
        return Network(d)

    def custom(self, name, orgs, actors=(), chain_id="carechain-systest", params=None, **toml):
        """A network from a hand-written genesis. `orgs` is a list of
        (org_id, [admin key names]); the node key belongs to the first org.
        `actors` is a list of (key name, org, role). Keys are generated."""
        d = os.path.join(self.base, name)
        os.makedirs(os.path.join(d, "keys"), mode=0o700)
        keys = {}

        def new_key(n):
            k = Key()
            k.write(os.path.join(d, "keys", n + ".key"))
            keys[n] = k
            return k

        node_key = new_key("node")
        genesis_orgs = []
        for i, (org, admins) in enumerate(orgs):
            genesis_orgs.append({"id": org, "name": org.title(),
                                 "admins": [new_key(a).public_hex for a in admins],
                                 "nodes": [node_key.public_hex] if i == 0 else []})
        genesis = {"chain_id": chain_id, "time_ms": int(time.time() * 1000),
                   "params": params or {"max_tx_bytes": 65536, "max_block_txs": 5000},
                   "orgs": genesis_orgs,
                   "actors": [{"key": new_key(n).public_hex, "org": o, "role": r}
                              for n, o, r in actors]}
        with open(os.path.join(d, "genesis.json"), "w") as f:
            json.dump(genesis, f, indent=2)
        write_node_toml(os.path.join(d, "node.toml"), **toml)
        return Network(d)

    def node(self, network, start=True, **kw):
        n = Node(self.binary, network)
        self.nodes.append(n)
        if start:
            n.start(**kw)
        return n

    def cleanup(self):
        for n in self.nodes:
            n.cleanup()


# --------------------------------------------------------------------------
# HTTP API

TIMEOUT = (5, 60)  # connect, read


def authority_of(url):
    """The Host (and signed @authority) a client sends for `url`:
    "http://127.0.0.1:8080/x" -> "127.0.0.1:8080" (the scheme's default port left out)."""
    p = urllib.parse.urlsplit(url)
    host = p.netloc.rsplit("@", 1)[-1].lower()
    default = ":443" if p.scheme == "https" else ":80"
    return host[:-len(default)] if host.endswith(default) else host


def sign_headers(key, method, authority, target, body=b"", created=None, nonce=None, expires=None,
                 components=("@method", "@authority", "@path", "@query", "content-digest"), extra=None):
    """RFC 9421 headers for a request to the node at `authority` ("host:port",
    sent as Host), as docs/api.md specifies them. `components` and `extra`
    (further headers to send and cover) are for tests of refusals."""
    path, _, query = target.partition("?")
    authority = authority.lower()
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
    created = int(time.time()) if created is None else created
    nonce = nonce or secrets.token_urlsafe(16)
    values = {"@method": method, "@authority": authority, "@path": path, "@query": "?" + query,
              "content-digest": digest, **{k.lower(): v for k, v in (extra or {}).items()}}
    listed = " ".join(f'"{c}"' for c in components)
    params = f'({listed});created={created};nonce="{nonce}";keyid="{key.public_hex}";alg="ed25519"'
    if expires is not None:
        params += f";expires={expires}"
    base = "".join(f'"{c}": {values.get(c, "")}\n' for c in components) + f'"@signature-params": {params}'
    sig = key.sign(base.encode())
    return {"Host": authority, **(extra or {}), "Content-Digest": digest, "Signature-Input": "sig1=" + params,
            "Signature": "sig1=:" + base64.b64encode(sig).decode() + ":"}


class SignedAuth(AuthBase):
    """Signs every request of a requests.Session with `key` (None: unsigned)."""

    def __init__(self, key):
        self.key = key

    def __call__(self, r):
        if self.key is not None:
            body = r.body or b""
            if isinstance(body, str):
                body = body.encode()
            r.headers.update(sign_headers(self.key, r.method, authority_of(r.url), r.path_url, body))
        return r


def signed_session(key):
    """A requests.Session whose every request is signed by `key`."""
    s = requests.Session()
    s.auth = SignedAuth(key)
    return s


class Api:
    def __init__(self, url, key=None, verify=True):
        self.url = url
        self.s = requests.Session()
        self.s.auth = SignedAuth(key)
        self.s.verify = verify  # https: a CA file, or True for the system store
        if verify is not True:
            self.s.trust_env = False  # else $REQUESTS_CA_BUNDLE would override `verify`

    def close(self):
        self.s.close()

    def get(self, path, **kw):
        return self.s.get(self.url + path, timeout=kw.pop("timeout", TIMEOUT), **kw)

    def get_json(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status_code == 200, f"GET {path} -> {r.status_code}: {r.text}"
        return r.json()

    def info(self):
        return self.get_json("/v1/info")

    def post_json(self, path, body, **kw):
        return self.s.post(self.url + path, data=json.dumps(body), headers={"Content-Type": "application/json"},
                           timeout=kw.pop("timeout", TIMEOUT), **kw)

    def post(self, path, **kw):
        return self.s.post(self.url + path, timeout=kw.pop("timeout", TIMEOUT), **kw)

    def next_nonce(self, pubhex):
        return self.get_json(f"/v1/actors/{pubhex}/nonce")["next_nonce"]

    def post_json_tx(self, tx, wait=False, **kw):
        body = tx.json if isinstance(tx, Tx) else tx
        return self.s.post(self.url + "/v1/transactions" + ("?wait=commit" if wait else ""),
                           data=json.dumps(body), headers={"Content-Type": "application/json"},
                           timeout=kw.pop("timeout", TIMEOUT), **kw)

    def post_raw_tx(self, raw, wait=False, content_type="application/octet-stream", **kw):
        raw = raw.raw if isinstance(raw, Tx) else raw
        return self.s.post(self.url + "/v1/transactions" + ("?wait=commit" if wait else ""),
                           data=raw, headers={"Content-Type": content_type},
                           timeout=kw.pop("timeout", TIMEOUT), **kw)

    def post_batch(self, raws, **kw):
        return self.s.post(self.url + "/v1/transactions/batch", data=batch_body(raws),
                           headers={"Content-Type": "application/octet-stream"},
                           timeout=kw.pop("timeout", TIMEOUT), **kw)

    def commit(self, tx, binary=False):
        """Submits with ?wait=commit and asserts it committed; returns the status."""
        r = self.post_raw_tx(tx, wait=True) if binary else self.post_json_tx(tx, wait=True)
        assert r.status_code == 200, f"expected commit, got {r.status_code}: {r.text}"
        st = r.json()
        assert st["status"] == "committed" and st["id"] == tx.id, st
        return st

    def tx_status(self, txid):
        return self.get_json(f"/v1/transactions/{txid}")

    def block(self, height, wait_ms=None, full=False):
        q = []
        if wait_ms is not None:
            q.append(f"wait_ms={wait_ms}")
        if full:
            q.append("txs=full")
        return self.get(f"/v1/blocks/{height}" + ("?" + "&".join(q) if q else ""))

    def wait_committed(self, txid, timeout=30):
        """Waits (long-polling blocks) until `txid` is committed; returns its status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.get(f"/v1/transactions/{txid}")
            if st.status_code == 200 and st.json()["status"] == "committed":
                return st.json()
            assert st.status_code in (200, 404), st.text
            self.block(self.info()["height"] + 1, wait_ms=500)
        raise AssertionError(f"transaction {txid} not committed within {timeout} s")

    def wait_height(self, height, timeout=30):
        """Long-polls until block `height` exists; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.block(height, wait_ms=1000)
            if r.status_code == 200:
                return r.json()
            assert r.status_code == 404, r.text
        raise AssertionError(f"block {height} did not appear within {timeout} s")


def wait_for(fn, what, timeout=30):
    """Polls `fn` until it returns something other than None or False; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v is not None and v is not False:  # (a 4xx Response is falsy)
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rss_kb(pid):
    """The resident memory of process `pid`, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_json_error(resp, status, code=None, message_contains=None):
    """The reply is HTTP `status` with a JSON {code, message} body."""
    assert resp.status_code == status, f"expected {status}, got {resp.status_code}: {resp.text}"
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    if message_contains is not None:
        assert message_contains.lower() in body["message"].lower(), body
    return body


# --------------------------------------------------------------------------
# CLI and ldb


class Cli:
    def __init__(self, binary):
        self.binary = binary

    def run(self, *args, timeout=CLI_TIMEOUT, input=None, env=None):
        return subprocess.run([self.binary] + [str(a) for a in args], capture_output=True,
                              text=True, timeout=timeout, input=input, env=env,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def ok_json(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"carechain {' '.join(map(str, args))} -> {r.returncode}\n{r.stderr}"
        return json.loads(r.stdout)

    def verify(self, data_dir, *extra):
        return self.run("verify", "--data", data_dir, *extra)


def _ldb(*args):
    r = subprocess.run([LDB] + list(args), capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert r.returncode == 0, f"ldb {' '.join(args)} -> {r.returncode}: {r.stdout}{r.stderr}"
    return r.stdout.strip()


def ldb_get(db, cf, key):
    out = _ldb(f"--db={db}", f"--column_family={cf}", "--hex", "get", "0x" + key.hex())
    assert out.startswith("0x"), out
    return bytes.fromhex(out[2:])


def ldb_put(db, cf, key, value):
    out = _ldb(f"--db={db}", f"--column_family={cf}", "--hex", "put", "0x" + key.hex(),
               "0x" + value.hex())
    assert out == "OK", out


def ldb_delete(db, cf, key):
    out = _ldb(f"--db={db}", f"--column_family={cf}", "--hex", "delete", "0x" + key.hex())
    assert out == "OK", out


def height_key(h):
    return h.to_bytes(8, "big")


# The ledger's Merkle tree (docs/formats.md, crypto/merkle.h), written again
# here so that tests check the node's proofs with code of their own.
def merkle_leaf(data):
    return hashlib.blake2b(b"\x00" + data, digest_size=32).digest()


def merkle_root(leaves):
    """The root over already-hashed leaves: an odd last node is promoted."""
    level = list(leaves)
    while len(level) > 1:
        nxt = [hashlib.blake2b(b"\x01" + level[i] + level[i + 1], digest_size=32).digest()
               for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # promoted, never duplicated
        level = nxt
    return level[0]


def merkle_root_from_path(leaf_hash, index, count, path):
    path = list(path)
    h = leaf_hash
    while count > 1:
        if index % 2 == 1:
            h = hashlib.blake2b(b"\x01" + path.pop(0) + h, digest_size=32).digest()
        elif index + 1 < count:
            h = hashlib.blake2b(b"\x01" + h + path.pop(0), digest_size=32).digest()
        index, count = index // 2, (count + 1) // 2
    assert not path, "the path is longer than the tree"
    return h

