"""A patient's smart watch through a real node and the CLI: the device is
registered on chain, its signed batches are kept sealed at the custodian and
anchored, the patient's early-warning rules raise alerts that the patient and
the provider they named see (also as a server-sent-events stream), readings
come out as FHIR Observations and prove against the anchor; bad batches are
refused and change nothing."""
import json
import queue
import threading

import pytest

import cchelpers
import fhircheck

T0 = 1_790_000_000_000
MIN = 60_000
METRICS = ["heart_rate", "spo2", "steps", "skin_temperature", "sleep"]


# The documented leaf and batch message (docs/modules/wearables.md), written again here.
def leaf(device_hex, t, metric, value):
    milli = round(value * 1000)
    data = (b"wearables/reading" + bytes.fromhex(device_hex) + t.to_bytes(8, "big") +
            bytes([METRICS.index(metric)]) + (milli & (2**64 - 1)).to_bytes(8, "big"))
    return cchelpers.merkle_leaf(data)


def python_batch(device, seq, readings):
    """A device-signed batch built from the docs, not by the project's code."""
    root = cchelpers.merkle_root([leaf(device.public_hex, r["t"], r["metric"], r["value"]) for r in readings])
    header = {"count": len(readings), "device": device.public_hex, "first": readings[0]["t"],
              "last": readings[-1]["t"], "root": root.hex(), "seq": seq}
    msg = b"carechain/wearables/batch/v1\n" + cchelpers.canonical_json(header)
    return {"device": device.public_hex, "seq": seq, "readings": readings, "device_sig": device.sign(msg).hex()}


@pytest.fixture
def watch(node_factory, cli, tmp_path):
    net = node_factory.demo("wearables", block_interval_ms=50)
    node = node_factory.node(net)
    device = cchelpers.Key()
    device_file = tmp_path / "watch.key"
    device.write(str(device_file))
    r = cli.run("wearables", "register", "--device-key", device_file, "--kind", "smart_watch", "--custodian",
                "st-marien-hospital", "--model", "Watch 9", "--node", node.url, "--key",
                net.key_path("patient-anna"), "--wait")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"]["code"] == "ok"
    return net, node, device, device_file


def test_rules_alerts_stream_fhir_and_proofs(watch, cli, tmp_path):
    net, node, device, device_file = watch
    patient, weber, koch = (net.keys[n] for n in ("patient-anna", "dr-weber", "dr-koch"))

    def wcli(who, *args):
        return cli.run("wearables", *args, "--node", node.url, "--key", net.key_path(who))

    r = wcli("patient-anna", "rules", "--rule", '{"id":"tachy","metric":"heart_rate","above":100,"for_s":300}',
             "--rule", '{"id":"spo2","metric":"spo2","below":90}', "--notify", weber.public_hex)
    assert r.returncode == 0, r.stderr
    assert [x["id"] for x in json.loads(r.stdout)["rules"]] == ["tachy", "spo2"]

    # The patient's app listens for alerts (server-sent events).
    events = queue.Queue()
    stream = node.api(patient).s.get(node.url + "/v1/wearables/alerts/stream", stream=True, timeout=60)
    assert stream.status_code == 200 and stream.headers["Content-Type"].startswith("text/event-stream")

    def listen():
        try:
            for line in stream.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    events.put(json.loads(line[6:]))
        except Exception:  # the test closes the stream under the reader
            pass
    threading.Thread(target=listen, daemon=True).start()

    hr = [70, 72, 101, 104, 108, 110, 112, 115, 118, 95]
    spo2 = [97, 96, 96, 95, 94, 93, 91, 89, 88, 92]
    lines = ["time,metric,value"]
    for i in range(10):
        lines += [f"{T0 + i * MIN},heart_rate,{hr[i]}", f"{T0 + i * MIN},spo2,{spo2[i]}"]
    f = tmp_path / "readings.csv"
    f.write_text("\n".join(lines) + "\n")
    r = cli.run("wearables", "send", "--device-key", device_file, "--file", f, "--node", node.url, "--key",
                net.key_path("patient-anna"), "--wait")
    assert r.returncode == 0, r.stderr
    (sent,) = json.loads(r.stdout)
    assert sent["status"] == "committed" and sent["readings"] == 20
    assert [(a["rule"], a["at"]) for a in sent["alerts"]] == [("tachy", T0 + 7 * MIN), ("spo2", T0 + 7 * MIN)]

    got = [events.get(timeout=20), events.get(timeout=20)]
    assert sorted(a["rule"] for a in got) == ["spo2", "tachy"]
    stream.close()

    # The patient and the provider they named read the alerts; another provider does not.
    mine = node.api(patient).get_json("/v1/wearables/alerts")["alerts"]
    assert [a["rule"] for a in mine] == ["tachy", "spo2"] or [a["rule"] for a in mine] == ["spo2", "tachy"]
    assert mine[0]["message"] in ("heart_rate above 100 /min for 5 min", "spo2 below 90 %")
    named = node.api(weber).get_json(f"/v1/wearables/alerts?patient={patient.public_hex}")["alerts"]
    assert named == mine
    cchelpers.assert_json_error(node.api(koch).get(f"/v1/wearables/alerts?patient={patient.public_hex}"), 403)

    # On chain: the anchor, never a reading.
    dev = node.api(patient).get_json(f"/v1/modules/wearables/devices/{device.public_hex}")
    assert dev["batches"] == 1 and dev["patient"] == patient.public_hex
    anchors = node.api(patient).get_json(f"/v1/modules/wearables/devices/{device.public_hex}/anchors")["anchors"]
    assert anchors[0]["count"] == 20
    state = node.api(net.keys["auditor-vogel"]).get_json("/v1/state/wearables")
    def numbers(x):
        if isinstance(x, dict):
            return [n for v in x.values() for n in numbers(v)]
        if isinstance(x, list):
            return [n for v in x for n in numbers(v)]
        return [x] if isinstance(x, (int, float)) and not isinstance(x, bool) else []
    # (Not a substring test: "118" turns up in hex keys by chance.)
    assert "heart_rate" not in json.dumps(state) and 118 not in numbers(state)

    # FHIR Observations, valid R4, with the vital-signs LOINC codes.
    bundle = node.api(weber).get_json(f"/v1/wearables/devices/{device.public_hex}/readings?seq=1&format=fhir")
    assert bundle["total"] == 20
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"]}
    assert codes == {"8867-4", "2708-6"}
    first = bundle["entry"][0]["resource"]
    assert first["valueQuantity"] == {"value": 70.0, "unit": "/min", "system": "http://unitsofmeasure.org",
                                      "code": "/min"}
    fhircheck.assert_valid(bundle)

    # One reading, proved against the anchored root by this file's own code.
    p = node.api(patient).get_json(f"/v1/wearables/devices/{device.public_hex}/readings?seq=1&index=5")
    assert p["reading"] == {"t": T0 + 2 * MIN, "metric": "spo2", "milli": 96000}
    h = cchelpers.merkle_root_from_path(leaf(device.public_hex, T0 + 2 * MIN, "spo2", 96), 5, 20, [bytes.fromhex(x) for x in p["path"]])
    assert h.hex() == p["root"] == anchors[0]["root"]


def test_strangers_read_none_of_a_patients_wearable_data(watch):
    """Registered keys with no relation to the patient (another organisation's
    provider and pharmacist, a provider of the custodian she did not name,
    another patient) are refused her device's on-chain entries and her
    off-chain readings; she and the provider she named are served. Chain
    readers see the module queries (the chain holds them anyway) but not the
    readings."""
    net, node, device, _ = watch
    patient = net.keys["patient-anna"]
    api = node.api(patient)
    readings = [{"t": T0 + i * MIN, "metric": "heart_rate", "value": 60 + i} for i in range(5)]
    r = api.post_json("/v1/wearables/batches?wait=commit", python_batch(device, 1, readings))
    assert r.status_code == 200 and r.json()["status"] == "committed", r.text
    r = api.s.put(node.url + "/v1/wearables/rules",
                  data=json.dumps({"rules": [{"id": "tachy", "metric": "heart_rate", "above": 100, "for_s": 300}],
                                   "notify": [net.keys["dr-weber"].public_hex]}),
                  headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 200, r.text
    # Another patient of the same hospital.
    other = cchelpers.Key()
    admin = net.keys["hospital-admin"]
    admin_api = node.api(admin)
    st = admin_api.commit(net.tx(admin, admin_api.next_nonce(admin.public_hex), "identity", "register_actor",
                                 {"key": other.public_hex, "org": "st-marien-hospital", "role": "patient"}))
    assert st["result"]["code"] == "ok", st

    dev, anna = device.public_hex, patient.public_hex
    queries = [f"/v1/modules/wearables/devices/{dev}", f"/v1/modules/wearables/devices/{dev}/anchors",
               f"/v1/modules/wearables/patients/{anna}/devices"]
    off_chain = [f"/v1/wearables/devices/{dev}/readings?seq=1", f"/v1/wearables/devices/{dev}/readings?seq=1&index=2",
                 f"/v1/wearables/devices/{dev}/readings?seq=1&format=fhir"]
    strangers = {"dr-koch (the practice's provider)": net.keys["dr-koch"],
                 "dr-yilmaz (the custodian's provider, not named)": net.keys["dr-yilmaz"],
                 "pharmacist-braun": net.keys["pharmacist-braun"],
                 "researcher-lang": net.keys["researcher-lang"],
                 "another patient": other}
    for who, key in strangers.items():
        for path in queries + off_chain:
            r = node.api(key).get(path)
            assert r.status_code == 403, f"{who} read {path}: {r.status_code} {r.text[:200]}"
            cchelpers.assert_json_error(r, 403, "permission_denied")
    # Chain readers: the on-chain entries, not the readings.
    for key in (net.keys["auditor-vogel"], admin):
        for path in queries:
            assert node.api(key).get(path).status_code == 200, path
        for path in off_chain:
            cchelpers.assert_json_error(node.api(key).get(path), 403, "permission_denied")
    # The patient and the provider she named are served.
    for key in (patient, net.keys["dr-weber"]):
        reader = node.api(key)
        assert reader.get_json(queries[0])["patient"] == anna
        assert reader.get_json(queries[1])["anchors"][0]["count"] == 5
        assert [d["device"] for d in reader.get_json(queries[2])["devices"]] == [dev]
        got = reader.get_json(off_chain[0])["readings"]
        assert [x["t"] for x in got] == [x["t"] for x in readings]
        assert reader.get_json(off_chain[1])["reading"]["t"] == T0 + 2 * MIN
        assert reader.get_json(off_chain[2])["total"] == 5


def test_bad_batches_are_refused_and_change_nothing(watch, cli):
    net, node, device, _ = watch
    patient = net.keys["patient-anna"]
    api = node.api(patient)

    def batches():
        return api.get_json(f"/v1/modules/wearables/devices/{device.public_hex}")["batches"]

    readings = [{"t": T0 + i * MIN, "metric": "heart_rate", "value": 60 + i} for i in range(5)]
    good = python_batch(device, 1, readings)
    forged = json.loads(json.dumps(good))
    forged["readings"][2]["value"] = 150
    r = api.post_json("/v1/wearables/batches", forged)
    cchelpers.assert_json_error(r, 400, message_contains="signature")
    other = cchelpers.Key()
    r = api.post_json("/v1/wearables/batches", python_batch(other, 1, readings) | {"device": device.public_hex})
    cchelpers.assert_json_error(r, 400, message_contains="signature")
    r = node.api(net.keys["dr-weber"]).post_json("/v1/wearables/batches", good)
    cchelpers.assert_json_error(r, 403)
    bad = json.loads(json.dumps(good))
    bad["readings"][0]["metric"] = "blood_sugar"
    cchelpers.assert_json_error(api.post_json("/v1/wearables/batches", bad), 400, message_contains="unknown metric")
    cchelpers.assert_json_error(api.post_json("/v1/wearables/batches", {"device": device.public_hex}), 400)
    assert batches() == 0
    # The documented format, built in Python, is accepted.
    r = api.post_json("/v1/wearables/batches?wait=commit", good)
    assert r.status_code == 200 and r.json()["status"] == "committed", r.text
    assert batches() == 1
    # Revoked: refused.
    r = cli.run("wearables", "revoke", device.public_hex, "--node", node.url, "--key", net.key_path("patient-anna"),
                "--wait")
    assert r.returncode == 0, r.stderr
    later = [{"t": T0 + 3_600_000, "metric": "heart_rate", "value": 61}]
    cchelpers.assert_json_error(api.post_json("/v1/wearables/batches", python_batch(device, 2, later)), 409)
    assert batches() == 1


def test_the_patient_has_their_wearable_data_erased(watch, cli):
    net, node, device, _ = watch
    patient = net.keys["patient-anna"]
    api = node.api(patient)
    readings = [{"t": T0 + i * MIN, "metric": "heart_rate", "value": 60 + i} for i in range(5)]
    r = api.post_json("/v1/wearables/batches?wait=commit", python_batch(device, 1, readings))
    assert r.status_code == 200, r.text
    path = f"/v1/wearables/devices/{device.public_hex}/readings?seq=1"
    assert len(api.get_json(path)["readings"]) == 5

    # Only the patient asks; --yes is required.
    cchelpers.assert_json_error(node.api(net.keys["dr-weber"]).post_json("/v1/wearables/erasure", {}), 403)
    r = cli.run("wearables", "erase", "--node", node.url, "--key", net.key_path("patient-anna"))
    assert r.returncode != 0 and "--yes" in r.stderr
    assert len(api.get_json(path)["readings"]) == 5

    r = cli.run("wearables", "erase", "--yes", "--wait", "--node", node.url, "--key", net.key_path("patient-anna"))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "committed" and out["documents"] >= 3  # key, batch, day summary
    cchelpers.assert_json_error(api.get(path), 404)
    dev = api.get_json(f"/v1/modules/wearables/devices/{device.public_hex}")
    assert dev["erased_batches"] == 1 and dev["erased_at"] > 0
    # The anchor stays on chain; new readings start afresh.
    assert api.get_json(f"/v1/modules/wearables/devices/{device.public_hex}/anchors")["anchors"][0]["count"] == 5
    later = [{"t": T0 + 3_600_000, "metric": "heart_rate", "value": 61}]
    assert api.post_json("/v1/wearables/batches?wait=commit", python_batch(device, 2, later)).status_code == 200
    assert len(api.get_json(f"/v1/wearables/devices/{device.public_hex}/readings?seq=2")["readings"]) == 1


@pytest.mark.parametrize("sub", ["register", "revoke", "send", "rules", "alerts", "readings", "devices", "erase"])
def test_wearables_help(cli, sub):
    r = cli.run("wearables", sub, "--help", timeout=30)
    assert r.returncode == 0 and "Usage:" in r.stdout, r.stderr
