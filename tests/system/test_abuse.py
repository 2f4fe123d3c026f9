"""A bad-input storm against a running node: malformed HTTP, huge headers,
truncated bodies, slow clients and 10,000 garbage requests. The node must keep
answering a valid (signed) client throughout, and its memory must stay bounded."""
import os
import random
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from cchelpers import Key, rss_kb

GARBAGE_REQUESTS = 10_000
STORM_THREADS = 6
SLOW_CLIENTS = 8


def garbage(rng, port):
    kind = rng.randrange(8)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    if kind == 1:
        return b"GET /v1/info HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * rng.randrange(9000, 70000) + b"\r\n\r\n"
    if kind == 2:  # truncated body
        return b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{\"chain"
    if kind == 3:  # body above the limit
        return (b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"
                + b"x" * 1000)
    if kind == 4:
        return b"BREW /coffee HTCPCP/1.0\r\n\r\n"
    if kind == 5:  # forged signature headers
        return (b"GET /v1/blocks/0 HTTP/1.1\r\nHost: x\r\nSignature-Input: sig1=(\"@method\");created=1\r\n"
                b"Signature: sig1=:AAAA:\r\nContent-Digest: nope\r\n\r\n")
    if kind == 6:
        return b"GET /" + b"%" * rng.randrange(1, 3000) + b" HTTP/1.1\r\n\r\n"
    return b"GET /v1/transactions/" + b"z" * 64 + b" HTTP/1.1\r\nHost: x\r\n\r\n"


def storm_worker(port, n, seed, errors):
    rng = random.Random(seed)
    for _ in range(n):
        request = garbage(rng, port)
        reply = b""
        sent = False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(request)
                sent = True
                s.shutdown(socket.SHUT_WR)
                s.settimeout(5)
                while chunk := s.recv(65536):
                    reply += chunk
        except OSError:
            # The node may answer (431, 413) and close while a large request
            # is still being sent: the reset can swallow its reply then.
            if sent or len(request) < 4096:
                errors.append(f"connection failed after a {len(request)}-byte request: {request[:40]!r}")
            continue
        except Exception as e:  # noqa: BLE001 - anything else is a bug in the test
            errors.append(repr(e))
            continue
        # Every request gets a status line, and none a 5xx.
        if not reply.startswith(b"HTTP/1.1 "):
            errors.append(f"no status line for {request[:40]!r}: {reply[:40]!r}")
        elif reply[9:10] == b"5":
            errors.append(f"5xx for {request[:40]!r}: {reply[:80]!r}")


def slow_client(port, stop):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            for b in b"GET /v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ":
                if stop.is_set():
                    return
                s.sendall(bytes([b]))
                stop.wait(0.5)  # pacing a slow client, not synchronisation
    except OSError:
        pass


@pytest.fixture
def storm_node(node_factory):
    net = node_factory.demo("abuse")
    # The storm and the valid client share 127.0.0.1: per-address limits off
    # here (test_rate_limit covers them), to see the server itself hold.
    text = open(os.path.join(net.dir, "node.toml")).read().replace(
        "port = 0\n", "port = 0\nrequests_per_s_per_address = 0\nrequests_per_s_per_actor = 0\n", 1)
    open(os.path.join(net.dir, "node.toml"), "w").write(text)
    node = node_factory.node(net)
    yield net, node
    node.stop()


def test_node_keeps_serving_through_a_bad_input_storm(storm_node):
    net, node = storm_node
    port = int(node.url.rsplit(":", 1)[1])
    api = node.api()
    assert api.info()["height"] == 0
    rss_before = rss_kb(node.proc.pid)

    errors, stop = [], threading.Event()
    slow = [threading.Thread(target=slow_client, args=(port, stop)) for _ in range(SLOW_CLIENTS)]
    storm = [threading.Thread(target=storm_worker, args=(port, GARBAGE_REQUESTS // STORM_THREADS, i, errors))
             for i in range(STORM_THREADS)]
    for t in slow + storm:
        t.start()

    # A valid client throughout: every request must succeed.
    answered, worst = 0, 0.0
    admin = net.keys["hospital-admin"]
    nonce = api.next_nonce(admin.public_hex)
    while any(t.is_alive() for t in storm):
        t0 = time.monotonic()
        info = api.info()
        worst = max(worst, time.monotonic() - t0)
        assert info["chain_id"] == net.chain_id
        answered += 1
        if answered % 10 == 0:  # and writes commit
            tx = net.tx(admin, nonce, "identity", "register_actor",
                        {"key": Key().public_hex, "org": "st-marien-hospital", "role": "patient"})
            api.commit(tx)
            nonce += 1
    for t in storm:
        t.join()
    stop.set()
    for t in slow:
        t.join()

    assert not errors, errors[:5]
    assert answered >= 10, f"only {answered} valid requests answered during the storm"
    assert worst < 5.0, f"a valid request took {worst:.1f} s during the storm"
    rss_after = rss_kb(node.proc.pid)
    assert rss_after - rss_before < 200 * 1024, f"RSS grew from {rss_before} kB to {rss_after} kB"
    # Still healthy, still verifying, and the refusals were counted.
    metrics = api.get("/metrics").text
    assert "carechain_http_requests_total" in metrics
    assert api.get("/healthz").json()["status"] == "ok"


def test_rate_limit_per_address_answers_429_json(node_factory):
    net = node_factory.demo("ratelimit")
    path = os.path.join(net.dir, "node.toml")
    text = open(path).read().replace("port = 0\n", "port = 0\nrequests_per_s_per_address = 20\n", 1)
    open(path, "w").write(text)
    node = node_factory.node(net)
    api = node.api()
    codes = [api.get("/healthz").status_code for _ in range(200)]
    assert 429 in codes and codes[0] == 200, codes[:50]
    r = next(r for r in (api.get("/healthz") for _ in range(50)) if r.status_code == 429)
    body = r.json()
    assert body["code"] == "rate_limited" and "slow down" in body["message"]
    node.stop()


def test_waiting_requests_hold_no_thread(node_factory):
    # 64 long polls from one address on a node with 2 server threads: they
    # wait parked, another request from the same address is served meanwhile,
    # and the block they wait for releases every one of them.
    net = node_factory.demo("parked", threads=2)
    node = node_factory.node(net)
    api = node.api()
    head = api.info()["height"]
    results = []
    polls = [threading.Thread(target=lambda: results.append(
        node.api().get(f"/v1/blocks/{head + 1}?wait_ms=25000", timeout=60).status_code)) for _ in range(64)]
    for t in polls:
        t.start()
    for _ in range(20):
        assert api.get("/v1/info").status_code == 200
    admin = Key.from_file(net.key_path("hospital-admin"))
    tx = net.tx(admin, api.next_nonce(admin.public_hex), "identity", "register_actor",
                {"key": Key().public_hex, "org": "st-marien-hospital", "role": "patient"})
    api.commit(tx)
    for t in polls:
        t.join(timeout=30)
        assert not t.is_alive(), "a long poll was not released by the block it waited for"
    assert results == [200] * 64, results
    node.stop()


def test_connections_over_the_per_address_cap_get_429(node_factory):
    net = node_factory.demo("conncap")
    text = open(net.config_path).read().replace("port = 0\n", "port = 0\nmax_connections_per_address = 8\n", 1)
    open(net.config_path, "w").write(text)
    node = node_factory.node(net)
    held = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")  # counted: served, and kept alive
        held.append(s)
    over = socket.create_connection(("127.0.0.1", node.port), timeout=10)
    reply = over.recv(4096)
    assert reply.startswith(b"HTTP/1.1 429") and b"Retry-After: 1" in reply, reply
    assert b'"code":"rate_limited"' in reply
    over.close()
    # Another address is not affected, and a freed slot serves again.
    other = socket.socket()
    other.bind(("127.0.0.2", 0))
    other.connect(("127.0.0.1", node.port))
    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert other.recv(4096).startswith(b"HTTP/1.1 200")
    held.pop().close()
    deadline = time.monotonic() + 10
    while True:  # the server sees the close asynchronously
        s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if s.recv(4096).startswith(b"HTTP/1.1 200"):
            break
        assert time.monotonic() < deadline, "a closed connection's slot was never freed"
    for s in held:
        s.close()
    node.stop()


def test_the_api_listens_with_a_deep_backlog(node_factory):
    """The server listens with a backlog of 1024 (http::ServerOptions), so
    that many clients connecting at once are not made to wait a SYN
    retransmission (1 s)."""
    net = node_factory.demo("backlog")
    node = node_factory.node(net)
    port = urllib.parse.urlparse(node.url).port
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    state, _recv_q, send_q = out.split()[:3]
    assert state == "LISTEN" and int(send_q) == 1024, out

