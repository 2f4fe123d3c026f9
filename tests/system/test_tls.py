"""TLS on the API: a throwaway CA made here with the openssl CLI; the CLI and
an HTTP client talk to the node over TLS; a wrong CA and plain HTTP are refused."""
import os
import subprocess

import pytest
import requests

from cchelpers import Api

OPENSSL = "/usr/bin/openssl"


def openssl(*args, cwd):
    r = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "1", "-subj", f"/CN={name}", cwd=d)
    return os.path.join(d, f"{name}.pem")


@pytest.fixture(scope="module")
def tls_node(tmp_path_factory, carechain_bin):
    from cchelpers import NodeFactory, write_node_toml
    d = str(tmp_path_factory.mktemp("tls"))
    ca = make_ca(d, "test-ca")
    other_ca = make_ca(d, "other-ca")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "node-tls.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "test-ca.pem", "-CAkey", "test-ca.key",
            "-CAcreateserial", "-out", "node-tls.pem", "-days", "1", "-extfile", "ext", cwd=d)
    factory = NodeFactory(carechain_bin, d)
    net = factory.demo("net")
    write_node_toml(os.path.join(net.dir, "node.toml"), tls_cert=os.path.join(d, "node-tls.pem"),
                    tls_key=os.path.join(d, "node-tls.key"))
    node = factory.node(net)
    yield {"node": node, "net": net, "ca": ca, "other_ca": other_ca}
    node.stop()


def test_node_serves_https_and_the_cli_verifies_it(tls_node, cli):
    node, net = tls_node["node"], tls_node["net"]
    assert node.url.startswith("https://"), node.url
    admin = net.key_path("hospital-admin")
    info = cli.ok_json("info", "--node", node.url, "--key", admin, "--cacert", tls_node["ca"])
    assert info["chain_id"] == net.chain_id
    # A transaction over TLS, committed.
    pub = cli.ok_json("keygen", "-o", os.path.join(net.dir, "p.key"))["public_key"]
    st = cli.ok_json("tx", "submit", "--node", node.url, "--cacert", tls_node["ca"], "-k", admin,
                     "-m", "identity", "-a", "register_actor", "--wait",
                     "-p", f'{{"key":"{pub}","org":"st-marien-hospital","role":"patient"}}')
    assert st["status"] == "committed" and st["result"]["code"] == "ok"
    # Python's HTTP client with the same CA.
    api = Api(node.url, net.keys["hospital-admin"], verify=tls_node["ca"])
    assert api.info()["height"] >= 1
    api.close()


def test_a_wrong_ca_and_plain_http_are_refused(tls_node, cli):
    node, net = tls_node["node"], tls_node["net"]
    admin = net.key_path("hospital-admin")
    r = cli.run("info", "--node", node.url, "--key", admin, "--cacert", tls_node["other_ca"])
    assert r.returncode != 0 and "cannot reach" in r.stderr, r.stderr
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(node.url + "/healthz", verify=tls_node["other_ca"], timeout=10)
    r = cli.run("info", "--node", node.url.replace("https://", "http://"), "--key", admin)
    assert r.returncode != 0, r.stdout
    # The node keeps serving TLS clients after those refusals.
    assert requests.get(node.url + "/healthz", verify=tls_node["ca"], timeout=10).status_code == 200
