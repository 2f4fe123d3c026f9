"""carechain's GS1 parser (`carechain supply parse`) against GS1's own
Digital Link toolkit (GS1DigitalLinkToolkit.js in the npm package
digital-link.js, run by tests/gs1/parse.js), on one corpus of pack codes in
every form: bracketed, scanned element strings (GS as FNC1, symbology
identifiers) and Digital Link URIs, valid and invalid.

Each code either gets the same answer from both (the same gtin, serial,
batch and expiry, or a refusal from both, each for the stated reason), or
differs in a way written down here with its reason: the difference itself is
asserted, so that a change on either side shows.

Needs node and the npm package: scripts/npm-deps."""
import json
import os
import shutil
import subprocess

import pytest

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GS1_DIR = os.path.join(REPO_ROOT, "tests", "gs1")
GTIN = "09506000134352"
GS = "\x1d"


def pack(serial, batch="", expiry="", gtin=GTIN):
    return {"gtin": gtin, "serial": serial, "batch": batch, "expiry": expiry}


def refused(says):
    return ("refused", says)


P = pack("XYZ123", "12AB", "261231")

# (code, what carechain says, what the toolkit says, why they differ or None).
# An answer is the pack's fields, or refused(substring of the message); None
# as the substring: the refusal's wording is not asserted.
CORPUS = [
    # The same pack in every form.
    (f"(01){GTIN}(17)261231(10)12AB(21)XYZ123", P, P, None),
    (f"01{GTIN}17261231" "1012AB" + GS + "21XYZ123", P, P, None),
    (f"]d201{GTIN}17261231" "1012AB" + GS + "21XYZ123", P, P, None),
    (f"https://id.gs1.org/01/{GTIN}/10/12AB/21/XYZ123?17=261231", P, P, None),
    # A resolver with its own path, a link type and a consumer product
    # variant (22), which is not part of a pack's identity.
    (f"https://example.com/gs1/01/{GTIN}/22/V2/10/12AB/21/XYZ123?17=261231&linkType=gs1:pip", P, P, None),
    (f"]Q301{GTIN}17261231" "21XYZ123", pack("XYZ123", "", "261231"), pack("XYZ123", "", "261231"), None),
    (f"]C101{GTIN}10B1" + GS + "21S1" + GS, pack("S1", "B1"), pack("S1", "B1"), None),
    # A GTIN-13 in a Digital Link is padded to 14 digits.
    ("https://id.gs1.org/01/9506000134352/21/S1", pack("S1"), pack("S1"), None),
    # Percent-encoding, and '/' and '%' in a serial.
    (f"https://id.gs1.org/01/{GTIN}/21/A%2F1%25", pack("A/1%"), pack("A/1%"), None),
    (f"(01){GTIN}(21)A/1%", pack("A/1%"), pack("A/1%"), None),
    # Day 00: the month's last day.
    (f"(01){GTIN}(17)260200(21)S2", pack("S2", "", "260200"), pack("S2", "", "260200"), None),
    # A serial of 20 characters, the most (21) allows.
    (f"(01){GTIN}(21)" + "A" * 20, pack("A" * 20), pack("A" * 20), None),
    # Fixed-length AIs first, any order; (11) production date and (710) a
    # national reimbursement number are read and not part of the pack.
    (f"1126010117261231" f"01{GTIN}21S3", pack("S3", "", "261231"), pack("S3", "", "261231"), None),
    (f"01{GTIN}21S4" + GS + "71012345", pack("S4"), pack("S4"), None),

    # Refused by both.
    (f"(01)09506000134353(21)S1", refused("wrong check digit (expected 2)"), refused("INVALID CHECK DIGIT"), None),
    (f"0109506000134353" "21S1", refused("wrong check digit (expected 2)"), refused("INVALID CHECK DIGIT"), None),
    ("https://id.gs1.org/01/09506000134353/21/S1", refused("wrong check digit (expected 2)"),
     refused("INVALID CHECK DIGIT"), None),
    (f"(01){GTIN}(21)" + "A" * 21, refused("(21) is longer than 20"), refused("SYNTAX ERROR"), None),
    (f"01{GTIN}21" + "A" * 21, refused("(21) is longer than 20"), refused("SYNTAX ERROR"), None),
    (f"https://id.gs1.org/01/{GTIN}/21/" + "A" * 21, refused("(21) is longer than 20"), refused("SYNTAX ERROR"), None),
    (f"(01){GTIN}(21)S 1", refused("outside GS1's set 82"), refused("SYNTAX ERROR"), None),
    (f"https://id.gs1.org/01/{GTIN}/21/S%201", refused("outside GS1's set 82"), refused("SYNTAX ERROR"), None),
    # Truncated.
    (f"01{GTIN}172612", refused("(17) must have 6 digits"), refused("SYNTAX ERROR"), None),
    (f"(01){GTIN}(17)2612(21)S1", refused("(17) must have 6 digits"), refused("SYNTAX ERROR"), None),
    ("(01", refused("unclosed '('"), refused("No matching GS1 AI"), None),
    # Malformed links. (The toolkit refuses the empty serial by failing on
    # it: its message is a TypeError, not asserted.)
    (f"https://id.gs1.org/01/{GTIN}/21/A%G1", refused("bad %-escape"), refused("URI malformed"), None),
    (f"https://id.gs1.org/01/{GTIN}/21/", refused("(21) is empty"), refused(None), None),
    ("https://id.gs1.org/21/S1", refused("no /01/ GTIN"), refused("Must contain at least the identifier"), None),

    # Principled differences.
    (f"(01){GTIN}(17)261332(21)S1", refused("(17) expiry has month 13"), pack("S1", "", "261332"),
     "the toolkit checks a date's format (six digits), not that the date exists"),
    (f"(01){GTIN}(17)260230(21)S1", refused("(17) expiry has day 30 in a month of 28 days"),
     pack("S1", "", "260230"), "the toolkit checks a date's format (six digits), not that the date exists"),
    (f"(01){GTIN}(99)ABC(21)S1", refused("unsupported Application Identifier (99)"), pack("S1"),
     "(99) is a GS1 AI (company internal), but not one a medicine pack carries: carechain refuses AIs "
     "outside a pack's set ((01), (10), (11), (15), (17), (21), (710)-(714)) by name"),
    (f"(01){GTIN}(23)X(21)S1", refused("unsupported Application Identifier (23)"), pack("S1"),
     "(23) is not a GS1 AI; the toolkit drops AIs missing from its table without a word"),
    (f"(01){GTIN}(10)B1(10)B2(21)S1", refused("(10) appears twice"), pack("S1", "B2"),
     "an AI given twice is ambiguous; the toolkit keeps the last value"),
    (f"(01){GTIN}(17)261231", refused("needs (01) GTIN and (21) serial number"), pack("", "", "261231"),
     "a valid GS1 code, but not a pack's: carechain parses pack codes, which need a serial"),
    ("(01)9506000134352(21)S1", refused("(01) must have 14 digits"), pack("S1", gtin="9506000134352"),
     "in an element string (01) is N14 (a GTIN-13 is written with a leading 0); the toolkit applies the "
     "Digital Link path rule (GTIN-8/12/13/14) to element strings too"),
    (f"https://id.gs1.org/01/{GTIN}/21/S1/10/B1", pack("S1", "B1"), refused("invalid sequence of key qualifiers"),
     "GS1 Digital Link orders the key qualifiers 22, 10, 21; carechain reads a scanned link as printed, "
     "since the pack is unambiguous either way"),
]


def npm_parse(codes):
    node = shutil.which("node")
    assert node, "node is missing: run scripts/npm-deps"
    assert os.path.isfile(os.path.join(GS1_DIR, "node_modules", "digital-link.js", "package.json")), \
        "the npm package digital-link.js is missing in tests/gs1: run scripts/npm-deps"
    r = subprocess.run([node, os.path.join(GS1_DIR, "parse.js")], input=json.dumps(codes), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    assert len(results) == len(codes)
    out = []
    for res in results:
        if not res["ok"]:
            out.append(("refused", res["error"]))
            continue
        ais = res["ais"]
        out.append({"gtin": ais.get("01", ""), "serial": ais.get("21", ""), "batch": ais.get("10", ""),
                    "expiry": ais.get("17", "")})
    return out


def our_parse(cli, code):
    r = cli.run("supply", "parse", code, timeout=30)
    if r.returncode != 0:
        assert r.stdout == "" and r.stderr.startswith("error: "), (r.stdout, r.stderr)
        return ("refused", r.stderr)
    j = json.loads(r.stdout)
    return {k: j[k] for k in ("gtin", "serial", "batch", "expiry")}


def matches(got, want):
    if isinstance(want, dict):
        return got == want
    return isinstance(got, tuple) and (want[1] is None or want[1] in got[1])


def test_corpus_is_broad():
    assert len(CORPUS) >= 30
    assert len({c for c, *_ in CORPUS}) == len(CORPUS)
    kinds = {"link": 0, "bracketed": 0, "element": 0}
    for c, *_ in CORPUS:
        kinds["link" if c.startswith("http") else "bracketed" if c.startswith("(") else "element"] += 1
    assert min(kinds.values()) >= 8, kinds


def test_our_parser_agrees_with_gs1s_toolkit(cli):
    codes = [c for c, *_ in CORPUS]
    theirs = npm_parse(codes)
    problems = []
    for (code, want_ours, want_theirs, why), npm in zip(CORPUS, theirs):
        ours = our_parse(cli, code)
        if why is None:
            # Agreement: the same fields, or both refuse.
            assert want_ours == want_theirs or (isinstance(want_ours, tuple) and isinstance(want_theirs, tuple))
        if not matches(ours, want_ours):
            problems.append(f"{code!r}: carechain said {ours}, expected {want_ours}")
        if not matches(npm, want_theirs):
            problems.append(f"{code!r}: the toolkit said {npm}, expected {want_theirs}")
        # A valid code's canonical forms parse back to the same pack.
        if isinstance(ours, dict):
            j = json.loads(cli.run("supply", "parse", code).stdout)
            for form in ("human_readable", "element_string", "digital_link"):
                if our_parse(cli, j[form]) != ours:
                    problems.append(f"{code!r}: its {form} {j[form]!r} parses to another pack")
    assert not problems, "\n".join(problems)


def test_canonical_forms_satisfy_the_toolkit(cli):
    """What carechain writes (labels, links) the toolkit reads as the same pack."""
    valid = [c for c, ours, _, _ in CORPUS if isinstance(ours, dict)]
    written = []
    for code in valid:
        j = json.loads(cli.run("supply", "parse", code).stdout)
        written += [(j[form], {k: j[k] for k in ("gtin", "serial", "batch", "expiry")})
                    for form in ("human_readable", "element_string", "digital_link")]
    theirs = npm_parse([w for w, _ in written])
    bad = [(w, want, got) for (w, want), got in zip(written, theirs) if got != want]
    assert not bad, bad
