"""Medicine packs through the `carechain supply` commands against a real node:
a regulator assigns the prefix, the manufacturer commissions (codes and a
CSV file, split into transactions of at most 1000 packs), packs travel in a
case and loose through a wholesaler to a pharmacy, are verified, dispensed,
verified again (an alarm the manufacturer sees) and recalled. Refusals (a bad
check digit, a malformed code, missing flags, a transfer by a non-owner) say
why, exit non-zero and change nothing. Then the QR label: PNG and SVG, read
back with zbarimg and parsed again."""
import json
import re
import shutil
import struct
import subprocess

import pytest


GTIN = "09506000134352"
SUPPLY_SUBCOMMANDS = ["check", "show", "parse", "assign-prefix", "commission", "aggregate", "disaggregate",
                      "transfer", "accept", "cancel", "dispense", "verify", "recall", "label"]


@pytest.mark.parametrize("sub", [[]] + [[s] for s in SUPPLY_SUBCOMMANDS], ids=lambda s: "-".join(s) or "supply")
def test_supply_help(cli, sub):
    r = cli.run("supply", *sub, "--help", timeout=30)
    assert r.returncode == 0, r.stderr
    assert "Usage:" in r.stdout and "--help" in r.stdout
    if not sub:
        for name in SUPPLY_SUBCOMMANDS:
            assert f"  {name} " in r.stdout, name


def start_chain(node_factory, cli, max_tx_bytes):
    """A node whose consortium has a manufacturer, a wholesaler, a pharmacy
    and a regulator; `ok(who, *args)` runs `carechain supply ARGS` as `who`."""
    net = node_factory.custom(
        "supply-cli",
        [("pharma-ag", ["pharma-admin"]), ("grosshandel", ["gh-admin"]), ("apotheke", ["apo-admin"]),
         ("bfarm", ["bfarm-admin"])],
        actors=[("maker", "pharma-ag", "manufacturer"), ("wholesaler", "grosshandel", "wholesaler"),
                ("pharmacist", "apotheke", "pharmacist"), ("regulator", "bfarm", "regulator")],
        params={"max_tx_bytes": max_tx_bytes, "max_block_txs": 5000})
    node = node_factory.node(net)

    class Chain:
        def __init__(self):
            self.net, self.node = net, node

        def run(self, who, *args):
            return cli.run("supply", *args, "--node", node.url, "--key", net.key_path(who))

        def ok(self, who, *args):
            r = self.run(who, *args)
            assert r.returncode == 0, f"supply {' '.join(map(str, args))} as {who} -> {r.returncode}\n{r.stderr}"
            return json.loads(r.stdout)

        def refused(self, who, *args, says):
            r = self.run(who, *args)
            assert r.returncode != 0, r.stdout
            assert says in r.stderr, r.stderr
            return r

        def query(self, who, path):
            return cli.ok_json("query", "supply", path, "--node", node.url, "--key", net.key_path(who))

        def api(self, who="regulator"):
            return node.api(net.keys[who])

        def pack(self, serial):
            return self.api().get_json(f"/v1/modules/supply/packs/{GTIN}/{serial}")

        def nonce(self, who):
            return self.api().next_nonce(net.keys[who].public_hex)

    return Chain()


@pytest.fixture
def chain(node_factory, cli):
    # Room for 1000 packs in one transaction: commissioning splits by count.
    return start_chain(node_factory, cli, max_tx_bytes=131072)


def committed_ok(reply):
    assert reply["status"] == "committed" and reply["result"] == {"code": "ok", "detail": ""}, reply
    return reply


def code(serial, batch="B1", expiry="301231"):
    return f"(01){GTIN}(17){expiry}(10){batch}(21){serial}"


def test_pack_journey_through_the_cli(chain, tmp_path):
    c = chain
    committed_ok(c.ok("regulator", "assign-prefix", "--prefix", "9506000", "--org", "pharma-ag", "--wait"))

    # Commission: codes in three forms, and a CSV file (header, CRLF, a
    # quoted serial holding a comma).
    csv = tmp_path / "packs.csv"
    csv.write_bytes(b"gtin,serial,batch,expiry\r\n"
                    b"09506000134352,S4,B1,301231\r\n"
                    b"9506000134352,\"S,5\",B2,301231\r\n")
    out = c.ok("maker", "commission", "--wait", "--file", csv,
               "--code", code("S1"),
               "--code", f"]d201{GTIN}17301231" "10B1\x1d" "21S2",
               "--code", f"https://id.gs1.org/01/{GTIN}/10/B1/21/S3?17=301231")
    assert out["packs"] == 5 and len(out["transactions"]) == 1
    committed_ok(out["transactions"][0])
    for s in ["S1", "S2", "S3", "S4", "S,5"]:
        p = c.pack(s.replace(",", "%2C"))
        assert (p["owner"], p["status"], p["verdict"]) == ("pharma-ag", "active", "authentic"), p
    assert c.pack("S%2C5")["batch"] == "B2"

    # S3 and S4 in a case; the case and S1, S2 go to the wholesaler.
    case = c.ok("maker", "aggregate", code("S3"), code("S4"), "--wait")
    assert re.fullmatch(r"[0-9a-f]{32}", case["case"]), case
    committed_ok(case)
    t1 = c.ok("maker", "transfer", "--to", "grosshandel", code("S1"), code("S2"), "--case", case["case"], "--wait")
    committed_ok(t1)
    assert c.pack("S1")["transfer"] == t1["transfer"]
    committed_ok(c.ok("wholesaler", "accept", t1["transfer"], "--wait"))
    assert [c.pack(s)["owner"] for s in ["S1", "S2", "S3", "S4"]] == ["grosshandel"] * 4
    assert c.api().get_json("/v1/modules/supply/cases/" + case["case"])["owner"] == "grosshandel"

    # On to the pharmacy: S1 (scanned as a Digital Link) and the case, under a
    # transfer id the wholesaler chose; the pharmacy opens the case.
    t2 = "c0ffee" + "0" * 26
    committed_ok(c.ok("wholesaler", "transfer", "--to", "apotheke", "--transfer", t2, "--case", case["case"],
                      f"https://id.gs1.org/01/{GTIN}/10/B1/21/S1?17=301231", "--wait"))
    committed_ok(c.ok("pharmacist", "accept", t2, "--wait"))
    committed_ok(c.ok("pharmacist", "disaggregate", case["case"], "--wait"))
    assert [c.pack(s)["owner"] for s in ["S1", "S2", "S3", "S4"]] == ["apotheke", "grosshandel", "apotheke", "apotheke"]
    assert "case" not in c.pack("S3")

    # Verify, dispense, verify again: the alarm reaches the manufacturer.
    v = c.ok("pharmacist", "verify", code("S1"))
    assert (v["verdict"], v["gtin"], v["serial"]) == ("authentic", GTIN, "S1") and "alarm" not in v, v
    committed_ok(c.ok("pharmacist", "dispense", code("S1"), "--wait"))
    assert c.pack("S1")["status"] == "dispensed"
    v = c.ok("pharmacist", "verify", code("S1"))
    assert (v["verdict"], v["alarm"]) == ("already_dispensed", "verified_after_dispensing"), v
    alarms = c.query("maker", "alarms?org=pharma-ag")
    assert [(a["kind"], a["serial"], a["presented_by"]) for a in alarms["alarms"]] == \
        [("verified_after_dispensing", "S1", "apotheke")]
    # A code whose batch differs from the commissioned pack's is not that pack.
    assert c.ok("pharmacist", "verify", code("S3", batch="B9"))["verdict"] == "unknown_serial"

    # A transfer offered and cancelled: nothing moves.
    t3 = c.ok("wholesaler", "transfer", "--to", "apotheke", code("S2"), "--wait")
    committed_ok(c.ok("wholesaler", "cancel", t3["transfer"], "--wait"))
    assert c.api().get_json("/v1/modules/supply/transfers/" + t3["transfer"])["status"] == "cancelled"
    assert c.pack("S2")["owner"] == "grosshandel" and "transfer" not in c.pack("S2")

    # Recall batch B1 by one of its packs' codes; B2 is untouched.
    committed_ok(c.ok("maker", "recall", code("S2"), "--reason", "sterility in doubt", "--wait"))
    assert c.ok("wholesaler", "verify", code("S2"))["verdict"] == "recalled"
    assert c.ok("maker", "verify", f"(01){GTIN}(21)S,5")["verdict"] == "authentic"
    committed_ok(c.ok("maker", "recall", "--gtin", GTIN, "--batch", "B2", "--reason", "label misprint", "--wait"))
    assert c.pack("S%2C5")["verdict"] == "recalled"


def test_commission_splits_into_transactions_of_1000_packs(chain, tmp_path):
    c = chain
    committed_ok(c.ok("regulator", "assign-prefix", "--prefix", "9506000", "--org", "pharma-ag", "--wait"))
    csv = tmp_path / "lot.csv"
    csv.write_text("".join(f"{GTIN},L{i:04d},LOT7,301231\n" for i in range(1001)))
    out = c.ok("maker", "commission", "--file", csv, "--wait")
    assert out["packs"] == 1001 and len(out["transactions"]) == 2
    sizes = []
    for reply in out["transactions"]:
        committed_ok(reply)
        tx = c.api().get_json("/v1/transactions/" + reply["id"])["tx"]
        sizes.append(len(tx["payload"]["packs"]))
    assert sizes == [1000, 1]
    assert c.pack("L0000")["batch"] == "LOT7" and c.pack("L1000")["owner"] == "pharma-ag"


def test_commission_splits_to_fit_the_nodes_max_tx_bytes(node_factory, cli, tmp_path):
    c = start_chain(node_factory, cli, max_tx_bytes=65536)
    committed_ok(c.ok("regulator", "assign-prefix", "--prefix", "9506000", "--org", "pharma-ag", "--wait"))
    csv = tmp_path / "lot.csv"
    csv.write_text("".join(f"{GTIN},M{i:04d},LOT8,301231\n" for i in range(1000)))
    out = c.ok("maker", "commission", "--file", csv, "--wait")
    assert out["packs"] == 1000 and len(out["transactions"]) == 2, out
    sizes = []
    for reply in out["transactions"]:
        committed_ok(reply)
        tx = c.api().get_json("/v1/transactions/" + reply["id"])["tx"]
        sizes.append(len(tx["payload"]["packs"]))
        assert len(json.dumps(tx["payload"], separators=(",", ":"))) < 65536
    assert sum(sizes) == 1000 and min(sizes) > 0


def test_refusals_say_why_and_change_nothing(chain, tmp_path):
    c = chain
    committed_ok(c.ok("regulator", "assign-prefix", "--prefix", "9506000", "--org", "pharma-ag", "--wait"))
    committed_ok(c.ok("maker", "commission", "--code", code("R1"), "--wait")["transactions"][0])
    nonces = {who: c.nonce(who) for who in ["maker", "pharmacist", "regulator"]}
    height = c.api().info()["height"]

    # Refused before anything is sent.
    c.refused("maker", "commission", "--code", f"(01)09506000134353(17)301231(10)B1(21)X1",
              says="GTIN 09506000134353 has a wrong check digit (expected 2)")
    c.refused("maker", "commission", "--code", code("X1"), "--code", "(01)0950600013435(21)X2",
              says="(01) must have 14 digits")
    c.refused("maker", "commission", "--code", f"(01){GTIN}(21)X3", says="needs a batch (10) and an expiry date (17)")
    c.refused("maker", "commission", "--code", code("X4"), "--code", code("X4"), says="serial X4 is named twice")
    c.refused("maker", "commission", "--code", code("X5", expiry="301332"), says="(17) expiry has month 13")
    c.refused("maker", "commission", "--code", code("X" * 21), says="(21) is longer than 20 characters")
    c.refused("maker", "commission", says="name the packs: --code CODE (repeatable) and/or --file CSV")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(f"{GTIN},Y1,B1,301231\n{GTIN},Y2,B1\n")
    c.refused("maker", "commission", "--file", bad_csv, says=f"{bad_csv}:2: expected 4 fields, found 3")
    c.refused("maker", "commission", "--file", tmp_path / "missing.csv", says="missing.csv")
    c.refused("pharmacist", "dispense", f"]d201{GTIN}21", says="(21) is empty")
    c.refused("pharmacist", "verify", "not a code", says="pack code 'not a code': GS1 code")
    c.refused("pharmacist", "verify", f"https://id.gs1.org/01/{GTIN}/21/A%G1", says="bad %-escape")
    c.refused("pharmacist", "transfer", code("R1"), says="--to is required")
    c.refused("pharmacist", "transfer", "--to", "pharma-ag", says="name what moves")
    c.refused("pharmacist", "accept", "abc", says="the transfer id must be 32 hex digits")
    c.refused("maker", "recall", code("R1"), says="--reason is required")
    c.refused("maker", "recall", f"(01){GTIN}(21)R1", "--reason", "x", says="carries no batch (10)")
    c.refused("regulator", "assign-prefix", "--prefix", "95A6000", "--org", "pharma-ag", says="6 to 12 digits")
    assert {who: c.nonce(who) for who in nonces} == nonces
    assert not any(c.api().get(f"/v1/modules/supply/packs/{GTIN}/{s}").status_code == 200
                   for s in ["X1", "X2", "X4", "Y1"])

    # Sent, committed, rejected by the chain: a pharmacy cannot move the
    # manufacturer's pack.
    r = c.refused("pharmacist", "transfer", "--to", "grosshandel", code("R1"), "--wait",
                  says="transfer rejected (unauthorized): pack 09506000134352 is not owned by apotheke")
    reply = json.loads(r.stdout)
    assert reply["result"]["code"] == "unauthorized"
    assert c.pack("R1")["owner"] == "pharma-ag" and "transfer" not in c.pack("R1")
    assert c.api().get("/v1/modules/supply/transfers/" + reply["transfer"]).status_code == 404
    assert c.api().info()["height"] > height


# --------------------------------------------------------------------------
# QR labels


def zbar(path):
    """What zbarimg reads from an image: the symbol's text, exactly."""
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg is missing: run scripts/deps (Debian package zbar-tools)"
    r = subprocess.run([zbarimg, "--nodbus", "--raw", "-q", str(path)], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.endswith("\n") and out.count("\n") == 1, repr(out)  # one symbol
    return out[:-1]  # not strip(): Python counts GS (0x1d) as whitespace


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


FIELDS = ("gtin", "serial", "batch", "expiry")


def test_label_png_and_svg_scan_back_to_the_pack(cli, tmp_path):
    pack = f"(01){GTIN}(17)301231(10)B/7(21)ABC%1"
    want = cli.ok_json("supply", "parse", pack)
    assert {k: want[k] for k in FIELDS} == {"gtin": GTIN, "serial": "ABC%1", "batch": "B/7", "expiry": "301231"}
    png, svg = tmp_path / "label.png", tmp_path / "label.svg"
    out = cli.ok_json("supply", "label", pack, "--png", png, "--svg", svg, "--scale", 5)
    link = f"https://id.gs1.org/01/{GTIN}/10/B%2F7/21/ABC%251?17=301231"
    assert out["content"] == link == want["digital_link"] and out["form"] == "link"
    modules = out["modules"]
    assert png_size(png) == ((modules + 8) * 5,) * 2  # 4 modules of quiet zone on each side

    text = svg.read_text()
    assert text.startswith("<?xml") and text.count("<path") == 1 and 'shape-rendering="crispEdges"' in text
    side = modules + 8
    assert f'viewBox="0 0 {side} {side}"' in text and f'width="{side * 5}"' in text

    scanned = zbar(png)
    assert scanned == link
    again = cli.ok_json("supply", "parse", scanned)
    assert {k: again[k] for k in FIELDS} == {k: want[k] for k in FIELDS}

    # Another resolver, with a path of its own.
    out = cli.ok_json("supply", "label", pack, "--png", png, "--resolver", "https://dl.example.org/gs1/")
    assert zbar(png) == f"https://dl.example.org/gs1/01/{GTIN}/10/B%2F7/21/ABC%251?17=301231" == out["content"]


def test_label_as_a_gs1_element_string(cli, tmp_path):
    pack = f"https://id.gs1.org/01/{GTIN}/10/B1/21/S%2F9?17=301231"
    png = tmp_path / "element.png"
    r = cli.run("supply", "label", pack, "--png", png, "--form", "element")
    if r.returncode != 0:
        # libqrencode up to 4.1.1 (Debian 12's) cannot write FNC1-first mode;
        # the command says so rather than write a QR code that is not a GS1 QR Code.
        assert re.fullmatch(r"error: libqrencode [0-9.]+ cannot write a GS1 QR Code \(FNC1 in first position\); "
                            r"use the Digital Link form\n", r.stderr), r.stderr
        assert not png.exists()
        return
    out = json.loads(r.stdout)
    assert out["content"] == f"01{GTIN}17301231" "10B1\x1d" "21S/9"
    scanned = zbar(png)  # zbar may prefix "]Q3" or report FNC1 as GS: the parser takes both
    again = cli.ok_json("supply", "parse", scanned)
    assert {k: again[k] for k in FIELDS} == {"gtin": GTIN, "serial": "S/9", "batch": "B1", "expiry": "301231"}


def test_label_refuses_bad_input_and_writes_nothing(cli, tmp_path):
    png = tmp_path / "x.png"
    for args, says in [
        ([f"(01)09506000134353(21)S1", "--png", png], "wrong check digit"),
        (["(01)123", "--png", png], "(01) must have 14 digits"),
        ([f"(01){GTIN}(21)S1"], "--png FILE and/or --svg FILE"),
        ([f"(01){GTIN}(21)S1", "--png", png, "--form", "datamatrix"], "--form"),
        ([f"(01){GTIN}(21)S1", "--png", png, "--scale", "0"], "--scale"),
        ([f"(01){GTIN}(21)S1", "--png", png, "--resolver", "ftp://x"], "--resolver must be an http(s) URL"),
        ([f"(01){GTIN}(21)S1", "--png", png, "--resolver", "https://r.example/01/1"], "does not parse back"),
    ]:
        r = cli.run("supply", "label", *args)
        assert r.returncode != 0 and says in r.stderr, (args, r.stderr)
    assert not png.exists()
