"""The HTTP layer under slow, idle and departing clients (issue 17): slow
clients from many addresses cost a signed client nothing, idle keep-alive
connections cost bounded memory, and a stop under load leaves no client with
a half-written reply."""
import resource
import selectors
import socket
import statistics
import threading
import time

import requests

from cchelpers import Key, rss_kb

SLOW_CONNECTIONS = 2000
SLOW_ADDRESSES = 50          # 127.0.0.2 .. 127.0.0.51
SLOW_SECONDS = 30
IDLE_CONNECTIONS = 10_000
IDLE_ADDRESSES = 20          # 500 each, below the default 1,000 per address
IDLE_RSS_BOUND_KB = 200 * 1024  # the node's whole RSS with 10,000 idle connections


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    assert hard >= IDLE_CONNECTIONS + 1000, f"the hard descriptor limit {hard} is too low for this test"


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


class SignedWorkload:
    """A registered client that submits one transaction and reads it back,
    timing each request."""

    def __init__(self, net, node):
        self.net, self.node = net, node
        self.key = net.keys["hospital-admin"]
        self.api = node.api(self.key)
        self.ids = []

    def run(self, n):
        latencies = []
        for _ in range(n):
            tx = self.net.tx(self.key, self.api.next_nonce(self.key.public_hex), "identity", "register_actor",
                             {"key": Key().public_hex, "org": "st-marien-hospital", "role": "patient"})
            t0 = time.monotonic()
            r = self.api.post_raw_tx(tx)
            latencies.append(time.monotonic() - t0)
            assert r.status_code in (200, 202), r.text
            self.ids.append(tx.id)
            t0 = time.monotonic()
            assert self.api.get(f"/v1/transactions/{tx.id}").status_code == 200
            latencies.append(time.monotonic() - t0)
        return latencies

    def all_committed_ok(self):
        for txid in self.ids:
            deadline = time.monotonic() + 30
            st = self.api.get_json(f"/v1/transactions/{txid}")
            while st["status"] == "pending" and time.monotonic() < deadline:
                head = self.api.info()["height"]
                self.api.get(f"/v1/blocks/{head + 1}?wait_ms=1000")  # an event: the next block
                st = self.api.get_json(f"/v1/transactions/{txid}")
            assert st["status"] == "committed" and st["result"]["code"] == "ok", st


def test_slow_clients_from_50_addresses_cost_a_signed_client_nothing(node_factory):
    raise_fd_limit()
    net = node_factory.demo("slow", block_interval_ms=10)
    node = node_factory.node(net)
    work = SignedWorkload(net, node)
    work.run(50)  # warm-up: connections, caches
    idle = work.run(300)

    sel = selectors.DefaultSelector()
    stop = threading.Event()
    got_408 = [0]
    other = [0]
    opened = [0]

    def open_slow(i):
        s = socket.socket()
        s.setblocking(False)
        s.bind((f"127.0.0.{2 + i % SLOW_ADDRESSES}", 0))
        s.connect_ex(("127.0.0.1", node.port))
        sel.register(s, selectors.EVENT_READ, {"i": i, "sent": 0, "reply": b""})
        opened[0] += 1

    def slow_loop():
        request = b"GET /v1/info HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64
        for i in range(SLOW_CONNECTIONS):
            open_slow(i)
        next_byte = time.monotonic()
        while not stop.is_set():
            if time.monotonic() >= next_byte:  # one header byte every 5 s on each
                for key in list(sel.get_map().values()):
                    d = key.data
                    try:
                        key.fileobj.send(request[d["sent"]:d["sent"] + 1])
                        d["sent"] = min(d["sent"] + 1, len(request) - 1)
                    except (BlockingIOError, OSError):
                        pass
                next_byte += 5
            for key, _ in sel.select(timeout=0.5):
                s, d = key.fileobj, key.data
                try:
                    chunk = s.recv(4096)
                except (BlockingIOError, OSError):
                    chunk = b""
                if chunk:
                    d["reply"] += chunk
                    continue  # the whole reply, until the node closes the connection
                if d["reply"].startswith(b"HTTP/1.1 408") and b'"code":"request_timeout"' in d["reply"]:
                    got_408[0] += 1
                else:
                    other[0] += 1
                sel.unregister(s)
                s.close()
                open_slow(d["i"])  # a slow client comes back: 2,000 stay open
        for key in list(sel.get_map().values()):
            key.fileobj.close()

    slow = threading.Thread(target=slow_loop)
    slow.start()
    t_end = time.monotonic() + SLOW_SECONDS
    loaded = []
    while time.monotonic() < t_end:
        loaded += work.run(20)
    stop.set()
    slow.join()

    assert opened[0] >= SLOW_CONNECTIONS
    # The header deadline (10 s) answered the slow ones with 408, nothing else.
    assert got_408[0] >= SLOW_CONNECTIONS, (got_408[0], other[0])
    assert other[0] == 0, f"{other[0]} slow connections got something other than a 408"
    work.all_committed_ok()
    # Within 2x of the same client on the idle node (an idle p99 under 5 ms
    # counts as 5 ms: below that, scheduling noise of the 2-core machine rules).
    idle_p99, loaded_p99 = p99(idle), p99(loaded)
    print(f"signed client p99: idle {idle_p99 * 1000:.2f} ms, with {SLOW_CONNECTIONS} slow clients "
          f"{loaded_p99 * 1000:.2f} ms over {len(loaded)} requests; median {statistics.median(loaded) * 1000:.2f} ms")
    assert loaded_p99 <= 2 * max(idle_p99, 0.005), (idle_p99, loaded_p99)
    node.stop()


def test_10000_idle_keepalive_connections_cost_bounded_memory(node_factory):
    raise_fd_limit()
    net = node_factory.demo("idle")
    node = node_factory.node(net)
    before = rss_kb(node.proc.pid)
    conns = []
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    for i in range(IDLE_CONNECTIONS):
        s = socket.socket()
        s.bind((f"127.0.1.{1 + i % IDLE_ADDRESSES}", 0))
        s.connect(("127.0.0.1", node.port))
        s.sendall(request)
        conns.append(s)
    for s in conns:  # each served once, then kept alive and idle
        s.settimeout(30)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            assert chunk, "the node closed an idle connection"
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply[:100]
    rss = rss_kb(node.proc.pid)
    print(f"node RSS: {before} KiB before, {rss} KiB with {IDLE_CONNECTIONS} idle connections "
          f"({(rss - before) * 1024 / IDLE_CONNECTIONS:.0f} bytes each)")
    assert rss < IDLE_RSS_BOUND_KB, f"RSS {rss} KiB with {IDLE_CONNECTIONS} idle connections"
    # A new client is served at once.
    t0 = time.monotonic()
    assert node.api(net.keys["hospital-admin"]).get("/v1/info").status_code == 200
    assert time.monotonic() - t0 < 1.0
    for s in conns:
        s.close()
    node.stop()


def test_a_stop_under_load_leaves_no_half_written_reply(node_factory):
    net = node_factory.demo("drain", block_interval_ms=10)
    node = node_factory.node(net)
    # Four writers, each with its own key (its nonces in order), each
    # registering patients of its own organisation and waiting for the commit.
    writers = ["hospital-admin", "practice-admin", "dr-weber", "dr-koch"]
    outcomes = []
    lock = threading.Lock()

    def writer(name):
        key = net.keys[name]
        api = node.api(key)
        org = api.get_json(f"/v1/modules/identity/actors/{key.public_hex}")["org"]
        nonce = api.next_nonce(key.public_hex)
        while True:
            tx = net.tx(key, nonce, "identity", "register_actor",
                        {"key": Key().public_hex, "org": org, "role": "patient"})
            nonce += 1
            try:
                r = api.post_raw_tx(tx, wait=True)
            except requests.exceptions.ConnectionError as e:
                # Refused, or closed before any byte of a reply: the only
                # other allowed outcome. A reply cut in half is a different
                # error (ChunkedEncodingError / IncompleteRead) and fails.
                with lock:
                    outcomes.append(("refused", tx.id, str(e)))
                return
            with lock:
                outcomes.append((r.status_code, tx.id, r.json()))
            if r.status_code not in (200, 202):
                return

    threads = [threading.Thread(target=writer, args=(w,)) for w in writers]
    for t in threads:
        t.start()
    while True:  # a stop while requests are in flight
        with lock:
            if len(outcomes) >= 200 or any(o[0] not in (200, 202) for o in outcomes):
                break
        time.sleep(0.01)
    node.proc.terminate()
    node.proc.wait(timeout=60)
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive()
    committed = [o for o in outcomes if o[0] == 200]
    assert len(committed) >= 200 - len(writers), [o for o in outcomes if o[0] != 200][:5]
    for status, _, body in outcomes:
        assert status in (200, 202, 503, "refused"), (status, body)
        if status == 200:
            assert body["status"] == "committed"
    node.start()
    api = node.api(net.keys["hospital-admin"])
    for _, txid, _ in committed:
        st = api.get_json(f"/v1/transactions/{txid}")
        assert st["status"] == "committed" and st["result"]["code"] == "ok", st
    node.stop()
