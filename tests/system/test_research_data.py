"""Research data with consent through a real node and the CLI: six patients
send their watches' heart rate to the hospital and consent to a study with
k = 5; the study's researcher gets an aggregate (count, mean and median
recomputed here from the readings) and a pseudonymised export whose times
are shifted per patient by whole days; each answer shows in the patients'
access logs; a researcher of another organisation and a patient are refused;
once two withdraw, the aggregate is refused (below k) without saying how
many remain."""
import json
import statistics

import pytest

import cchelpers
import fhircheck
from test_research import ok, research
from test_wearables import python_batch

DAY = 86_400_000
T0 = 1_790_000_000_000 // DAY * DAY  # a UTC midnight in September 2026
PATIENTS = [f"p{i}" for i in range(6)]


def hr(i, j):
    return 58 + 7 * i + (j * 5) % 23


@pytest.fixture
def study(node_factory, cli, tmp_path):
    net = node_factory.custom(
        "research-data",
        [("hospital", ["h-admin"]), ("uni-a", ["a-admin"]), ("uni-b", ["b-admin"])],
        actors=[("alice", "uni-a", "researcher"), ("bob", "uni-b", "researcher"), ("auditor", "hospital", "auditor")]
        + [(p, "hospital", "patient") for p in PATIENTS],
        block_interval_ms=50)
    node = node_factory.node(net)
    protocol = tmp_path / "protocol.txt"
    protocol.write_text("Resting heart rate in daily life: protocol v1\n")
    ok(research(cli, net, node, "alice", "register", "rhr", "--title", "Resting heart rate", "--protocol", protocol,
                "--primary", "Resting heart rate | /min | 2 days", "--min-cohort", "5", "--wait"))
    sent = {}
    for i, p in enumerate(PATIENTS):
        device = cchelpers.Key()
        device_file = tmp_path / f"{p}-watch.key"
        device.write(str(device_file))
        r = cli.run("wearables", "register", "--device-key", device_file, "--kind", "smart_watch", "--custodian",
                    "hospital", "--node", node.url, "--key", net.key_path(p), "--wait")
        assert r.returncode == 0, r.stderr
        ok(research(cli, net, node, p, "consent", "rhr", "--category", "heart_rate", "--until", "+30d", "--wait"))
        # Hourly readings over two UTC days.
        readings = [{"t": T0 + j * 3_600_000, "metric": "heart_rate", "value": hr(i, j)} for j in range(48)]
        r = node.api(net.keys[p]).post_json("/v1/wearables/batches?wait=commit", python_batch(device, 1, readings))
        assert r.status_code == 200 and r.json()["status"] == "committed", r.text
        sent[p] = readings
    return net, node, sent


def access_log(net, node, p):
    key = net.keys[p].public_hex
    return node.api(net.keys[p]).get_json(f"/v1/patients/{key}/access-log")["access"]


def test_aggregate_export_and_access_log(study, cli):
    net, node, sent = study
    values = [r["value"] for p in PATIENTS for r in sent[p]]

    a = ok(research(cli, net, node, "alice", "aggregate", "rhr", "--metric", "heart_rate", "--from", "2026-09-21",
                    "--to", "2026-09-22"))
    assert (a["patients"], a["readings"], a["k"]) == (6, len(values), 5)
    assert a["mean"] == pytest.approx(statistics.fmean(values), abs=1e-9)
    assert a["median"] == statistics.median(values)
    assert a["from"] == "2026-09-21" and a["unit"] == "/min"
    assert sum(b["readings"] for b in a["histogram"]["bins"]) == len(values)
    assert all(b["patients"] >= 5 for b in a["histogram"]["bins"])
    # One day: the second day's readings only.
    one = ok(research(cli, net, node, "alice", "aggregate", "rhr", "--metric", "heart_rate", "--from", "2026-09-22",
                      "--to", "2026-09-22", "--bin", "5"))
    assert one["readings"] == len(values) // 2 and one["histogram"]["bin"] == 5

    # The export: pseudonyms, no keys, every time shifted by the patient's whole days.
    x = ok(research(cli, net, node, "alice", "export", "rhr", "--metric", "heart_rate", "--limit", "50", "--all"))
    text = json.dumps(x)
    assert not any(k.public_hex in text for k in net.keys.values())
    assert "hospital" not in text
    assert len(x["participants"]) == 6
    shifts = set()
    for part in x["participants"]:
        rows = part["readings"]
        assert len(rows) == 48 and part["pseudonym"].startswith("p-")
        # Whose? The values are each patient's own sequence.
        (p,) = [p for p in PATIENTS if [r["value"] for r in sent[p]] == [v for _, v in rows]]
        shift = rows[0][0] - sent[p][0]["t"]
        assert shift % DAY == 0 and 0 < abs(shift) <= 182 * DAY
        assert [t - shift for t, _ in rows] == [r["t"] for r in sent[p]]
        shifts.add(shift)
    assert len(shifts) > 1

    # Each answer is an access the patient sees: both aggregates, and each
    # export page that held the patient's readings.
    def kinds():
        return sorted(e["what"].split()[0] for e in access_log(net, node, "p3"))
    got = cchelpers.wait_for(lambda: (lambda k: k if k.count("aggregate") == 2 and "export" in k else None)(kinds()),
                             "p3's research accesses in the access log")
    assert set(got) == {"aggregate", "export"}
    log = access_log(net, node, "p3")
    assert all(e["reader"] == net.keys["alice"].public_hex and e["purpose"] == "research" and e["study"] == "rhr"
               and e["category"] == "wearables" for e in log)
    key = net.keys["p3"].public_hex
    bundle = node.api(net.keys["p3"]).get_json(f"/v1/patients/{key}/access-log?format=fhir")
    fhircheck.assert_valid(bundle)
    entity = bundle["entry"][0]["resource"]["entity"][0]
    assert entity["what"]["identifier"]["value"] == "rhr" and entity["description"].startswith(("aggregate", "export"))

    # The study's team lists its consents; a patient lists their own.
    listed = ok(research(cli, net, node, "alice", "consents", "rhr"))["consents"]
    assert len(listed) == 6 and all(c["categories"] == ["heart_rate"] for c in listed)
    mine = ok(research(cli, net, node, "p0", "consents"))["consents"]
    assert [c["study"] for c in mine] == ["rhr"]


def test_outsiders_are_refused_and_below_k_is_refused(study, cli):
    net, node, _ = study
    path = "/v1/research/studies/rhr/aggregate?metric=heart_rate&from=2026-09-21&to=2026-09-22"
    for who in ("bob", "p0"):
        cchelpers.assert_json_error(node.api(net.keys[who]).get(path), 403, message_contains="uni-a")
        cchelpers.assert_json_error(node.api(net.keys[who]).get("/v1/research/studies/rhr/export?metric=heart_rate"),
                                    403)
        cchelpers.assert_json_error(node.api(net.keys[who]).get("/v1/modules/research/studies/rhr/consents"), 403)
    cchelpers.assert_json_error(node.api(net.keys["p0"]).get(
        f"/v1/modules/research/patients/{net.keys['p1'].public_hex}/consents"), 403)
    alice = node.api(net.keys["alice"])
    cchelpers.assert_json_error(alice.get(path.replace("heart_rate", "glucose")), 400, message_contains="metric")
    cchelpers.assert_json_error(alice.get(path.replace("2026-09-22", "2026-13-01")), 400)
    cchelpers.assert_json_error(alice.get(path + "&bin=0.5"), 400, message_contains="multiple")
    cchelpers.assert_json_error(alice.get("/v1/research/studies/nope/aggregate?metric=heart_rate"), 404)
    cchelpers.assert_json_error(alice.get("/v1/research/studies/rhr/export?metric=heart_rate&after=zz"), 400)

    for p in ("p0", "p1"):
        ok(research(cli, net, node, p, "withdraw", "rhr", "--wait"))
    r = research(cli, net, node, "alice", "aggregate", "rhr", "--metric", "heart_rate", "--from", "2026-09-21",
                 "--to", "2026-09-22")
    assert r.returncode != 0 and "fewer than 5" in r.stderr, r.stderr
    assert "4" not in r.stderr.split("fewer than 5")[1]
    cchelpers.assert_json_error(alice.get(path), 403, code="below_k")
    # The export leaves the withdrawn out.
    x = alice.get_json("/v1/research/studies/rhr/export?metric=heart_rate&limit=1000")
    assert len(x["participants"]) == 4
    # Refusals logged nothing: p0's log holds no research access.
    assert not [e for e in access_log(net, node, "p0") if e.get("purpose") == "research"]
    # An auditor sees who withdrew.
    statuses = {c["patient"]: c["status"] for c in ok(research(cli, net, node, "auditor", "consents", "rhr"))["consents"]}
    assert [statuses[net.keys[p].public_hex] for p in PATIENTS] == ["withdrawn"] * 2 + ["active"] * 4


@pytest.mark.parametrize("sub", ["consent", "withdraw", "consents", "aggregate", "export"])
def test_research_data_help(cli, sub):
    r = cli.run("research", sub, "--help", timeout=30)
    assert r.returncode == 0 and "Usage:" in r.stdout, r.stderr
