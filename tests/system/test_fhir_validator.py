"""The FHIR R4 validator of the tests (tests/fhir/validate.js: the npm package
`fhir`, FHIR.js 4.12.0, with its bundled FHIR 4.0.1 definitions) tells correct
Consent, AuditEvent and DocumentReference resources from broken ones.

Needs node and the package (scripts/npm-deps); no carechain binary.

What FHIR.js reports as an error (each is shown below):
- a missing element of min cardinality >= 1, at any depth ("Missing
  property"), and an empty array for one ("A x entry is required");
- an array element given as a non-array ("Property is not an array");
- a code that is not in a *required* binding's value set, when the package
  bundles that value set (status, action, outcome, provision.type, ...);
- wrong primitives: boolean, integer/decimal/unsignedInt/positiveInt given as
  a string, date/dateTime/time/code/id/oid that do not match the type's
  pattern (the patterns are not anchored: the value need only *contain* a
  match, e.g. a dateTime "2024-13-45xyz" passes);
- a Reference whose type ("Practitioner/x", or .type) is not an allowed
  target, for elements of the resource itself (not inside backbone elements);
- a property that R4 does not define (an error because validate.js sets
  errorOnUnexpected; FHIR.js alone warns), which also catches a single-valued
  object element given as an array;
- an unknown resourceType (fatal); contained resources are validated.

What it does not report (test_known_gaps pins each, so an upgrade of the
package that closes a gap shows up):
- the types instant, string, uri, url, canonical, markdown, base64Binary,
  uuid, xhtml are not checked at all (AuditEvent.recorded: 42 passes);
- null values of primitives pass (null for a boolean throws in FHIR.js: a
  fatal message then);
- unsignedInt/integer patterns are unanchored: -1 and 1.5 pass as unsignedInt;
- no invariant (FHIRPath constraint) is evaluated: ppc-1, sev-1, per-1, ele-1;
- codes bound to a value set that the package does not bundle (mimetypes for
  Attachment.contentType, v3-PurposeOfUse, ...) pass with an "info" message;
- extensible, preferred and example bindings give warnings, never errors;
- Reference targets inside backbone elements (AuditEvent.agent.who,
  Consent.provision.actor.reference) and the form of a reference are not
  checked.
"""
import base64
import copy
import hashlib
import json
import subprocess

import pytest

import fhircheck

DOC_BYTES = b"carechain discharge summary v1"

CONSENT = {
    "resourceType": "Consent",
    "id": "consent-1",
    "status": "active",
    "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                          "code": "patient-privacy", "display": "Privacy Consent"}]},
    "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0",
                              "display": "Patient Consent"}]}],
    "patient": {"reference": "Patient/p-1"},
    "dateTime": "2024-03-01T10:00:00Z",
    "organization": [{"reference": "Organization/st-marien-hospital"}],
    "policy": [{"uri": "https://carechain.example/policy/records-access/v1"}],  # ppc-1
    "provision": {
        "type": "permit",
        "period": {"start": "2024-03-01", "end": "2025-03-01"},
        "actor": [{
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                 "code": "IRCP", "display": "information recipient"}]},
            "reference": {"reference": "Practitioner/dr-weber"},
        }],
        "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction",
                                "code": "access"}]}],
        "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                     "code": "TREAT", "display": "treatment"}],
        "data": [{"meaning": "instance", "reference": {"reference": "DocumentReference/doc-1"}}],
    },
}

AUDIT_EVENT = {
    "resourceType": "AuditEvent",
    "id": "audit-1",
    "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
             "code": "rest", "display": "RESTful Operation"},
    "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "read",
                 "display": "read"}],
    "action": "R",
    "recorded": "2024-03-01T10:15:00.123Z",
    "outcome": "0",
    "agent": [{
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                             "code": "IRCP"}]},
        "who": {"reference": "Practitioner/dr-weber"},
        "requestor": True,
    }],
    "source": {
        "site": "st-marien-hospital",
        "observer": {"reference": "Device/carechain-node-1"},
        "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                  "code": "4", "display": "Application Server"}],
    },
    "entity": [{
        "what": {"reference": "DocumentReference/doc-1"},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
        "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4"},
    }],
}

DOCUMENT_REFERENCE = {
    "resourceType": "DocumentReference",
    "id": "doc-1",
    "status": "current",
    "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5",
                         "display": "Discharge summary"}]},
    "subject": {"reference": "Patient/p-1"},
    "date": "2024-03-01T09:00:00Z",
    "custodian": {"reference": "Organization/st-marien-hospital"},
    "content": [{"attachment": {
        "contentType": "application/pdf",
        "url": "https://carechain.example/documents/doc-1",
        "size": len(DOC_BYTES),
        # FHIR: "The calculated hash of the data using SHA-1. Represented using base64."
        "hash": base64.b64encode(hashlib.sha1(DOC_BYTES).digest()).decode(),
        "title": "Discharge summary",
        "creation": "2024-03-01T08:55:00Z",
    }}],
}

GOOD = {"Consent": CONSENT, "AuditEvent": AUDIT_EVENT, "DocumentReference": DOCUMENT_REFERENCE}

DELETE = object()


def variant(base, path, value):
    """A deep copy of `base` with the element at `path` (keys and indexes)
    set to `value`, or removed when value is DELETE."""
    r = copy.deepcopy(base)
    node = r
    for k in path[:-1]:
        node = node[k]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return r


def failing(result):
    return [(m["location"], m["message"]) for res in result["results"]
            for m in res["messages"] if m["severity"] in ("error", "fatal")]


# --------------------------------------------------------------------------
# Correct resources


@pytest.mark.parametrize("name", sorted(GOOD))
def test_correct_resource_is_valid(name):
    result = fhircheck.assert_valid(GOOD[name])
    assert result["fhirVersion"] == "4.0.1"
    [res] = result["results"]
    assert (res["resourceType"], res["id"], res["valid"]) == (name, GOOD[name]["id"], True)
    assert failing(result) == []


def test_bundle_and_array_validate_every_resource():
    bundle = {"resourceType": "Bundle", "id": "b-1", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{i}", "resource": r}
                        for i, r in enumerate(GOOD.values())]}
    result = fhircheck.assert_valid(bundle)
    assert [(r["resourceType"], r["path"]) for r in result["results"]] == [
        ("Bundle", ""),
        ("Consent", "Bundle.entry[0].resource"),
        ("AuditEvent", "Bundle.entry[1].resource"),
        ("DocumentReference", "Bundle.entry[2].resource"),
    ]
    result = fhircheck.assert_valid(list(GOOD.values()))
    assert [r["id"] for r in result["results"]] == ["consent-1", "audit-1", "doc-1"]


def test_bundle_entry_error_is_reported_on_that_entry():
    broken = variant(AUDIT_EVENT, ["recorded"], DELETE)
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": CONSENT}, {"resource": broken}]}
    result = fhircheck.validate(bundle)
    assert result["valid"] is False
    assert [r["valid"] for r in result["results"]] == [True, True, False]
    assert failing({"results": result["results"][2:]}) == [("AuditEvent.recorded", "Missing property")]


def test_validates_against_r4():
    # Consent.scope is required in R4 (gone in R5), AuditEvent.type is R4's
    # (R5 calls it code), ServiceRequest is new in R4, ProcedureRequest was
    # STU3's.
    assert ("Consent.scope", "Missing property") in failing(
        fhircheck.validate(variant(CONSENT, ["scope"], DELETE)))
    r5_audit = variant(AUDIT_EVENT, ["code"], {"coding": [AUDIT_EVENT["type"]]})
    assert ("AuditEvent.code", "Unexpected property") in failing(fhircheck.validate(r5_audit))
    fhircheck.assert_valid({"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                            "subject": {"reference": "Patient/p-1"}})
    stu3 = fhircheck.validate({"resourceType": "ProcedureRequest", "status": "active"})
    assert stu3["valid"] is False
    assert stu3["results"][0]["messages"][0]["severity"] == "fatal"


# --------------------------------------------------------------------------
# Broken resources: each is invalid, with the error at the right place.

BROKEN = [
    # missing required elements, top level and nested
    ("consent-no-scope", CONSENT, ["scope"], DELETE, "Consent.scope", "Missing property"),
    ("consent-no-status", CONSENT, ["status"], DELETE, "Consent.status", "Missing property"),
    ("consent-empty-category", CONSENT, ["category"], [], "Consent.category",
     "A category entry is required"),
    ("consent-actor-no-reference", CONSENT, ["provision", "actor", 0, "reference"], DELETE,
     "Consent.provision.actor[0].reference", "Missing property"),
    ("audit-no-recorded", AUDIT_EVENT, ["recorded"], DELETE, "AuditEvent.recorded", "Missing property"),
    ("audit-no-source", AUDIT_EVENT, ["source"], DELETE, "AuditEvent.source", "Missing property"),
    ("audit-agent-no-requestor", AUDIT_EVENT, ["agent", 0, "requestor"], DELETE,
     "AuditEvent.agent[0].requestor", "Missing property"),
    ("doc-no-content", DOCUMENT_REFERENCE, ["content"], DELETE, "DocumentReference.content",
     "Missing property"),
    ("doc-content-no-attachment", DOCUMENT_REFERENCE, ["content", 0, "attachment"], DELETE,
     "DocumentReference.content[0].attachment", "Missing property"),
    # codes outside a required binding
    ("consent-status-bogus", CONSENT, ["status"], "bogus", "Consent.status",
     'Code "bogus" not found in value set'),
    ("consent-status-case", CONSENT, ["status"], "Active", "Consent.status",
     'Code "Active" not found in value set'),
    ("consent-provision-type", CONSENT, ["provision", "type"], "allow", "Consent.provision.type",
     'Code "allow" not found in value set'),
    ("consent-data-meaning", CONSENT, ["provision", "data", 0, "meaning"], "all",
     "Consent.provision.data[0].meaning", 'Code "all" not found in value set'),
    ("audit-action-bogus", AUDIT_EVENT, ["action"], "X", "AuditEvent.action",
     'Code "X" not found in value set'),
    ("audit-outcome-number", AUDIT_EVENT, ["outcome"], 0, "AuditEvent.outcome",
     'Code "0" not found in value set'),
    ("doc-status-bogus", DOCUMENT_REFERENCE, ["status"], "bogus", "DocumentReference.status",
     'Code "bogus" not found in value set'),
    ("doc-docstatus-bogus", DOCUMENT_REFERENCE, ["docStatus"], "done", "DocumentReference.docStatus",
     'Code "done" not found in value set'),
    # wrong types
    ("consent-datetime-number", CONSENT, ["dateTime"], 42, "Consent.dateTime",
     'Invalid dateTime format for value "42"'),
    ("consent-datetime-text", CONSENT, ["dateTime"], "March 1st", "Consent.dateTime",
     'Invalid dateTime format for value "March 1st"'),
    ("consent-period-start-number", CONSENT, ["provision", "period", "start"], 42,
     "Consent.provision.period.start", 'Invalid dateTime format for value "42"'),
    ("consent-category-not-array", CONSENT, ["category"], CONSENT["category"][0], "Consent.category",
     "Property is not an array"),
    ("consent-scope-as-array", CONSENT, ["scope"], [CONSENT["scope"]], "Consent.scope.0",
     "Unexpected property"),
    ("audit-agent-not-array", AUDIT_EVENT, ["agent"], AUDIT_EVENT["agent"][0], "AuditEvent.agent",
     "Property is not an array"),
    ("audit-requestor-string", AUDIT_EVENT, ["agent", 0, "requestor"], "yes",
     "AuditEvent.agent[0].requestor", 'Invalid format for boolean value "yes"'),
    ("audit-id-bad-chars", AUDIT_EVENT, ["id"], "!!!", "AuditEvent.id", 'Invalid id format for value "!!!"'),
    ("doc-size-string", DOCUMENT_REFERENCE, ["content", 0, "attachment", "size"], "30",
     "DocumentReference.content[0].attachment.size",
     'Number type expected but string received for value "30"'),
    # references to a resource type the element does not allow
    ("consent-patient-is-practitioner", CONSENT, ["patient", "reference"], "Practitioner/dr-weber",
     "Consent.patient", "Invalid type for reference"),
    ("doc-custodian-is-patient", DOCUMENT_REFERENCE, ["custodian", "reference"], "Patient/p-1",
     "DocumentReference.custodian", "Invalid type for reference"),
    ("doc-subject-typed-organization", DOCUMENT_REFERENCE, ["subject", "type"], "Organization",
     "DocumentReference.subject", "Invalid type for reference"),
    # properties R4 does not define
    ("consent-typo", CONSENT, ["stauts"], "active", "Consent.stauts", "Unexpected property"),
    ("consent-provision-unknown", CONSENT, ["provision", "expires"], "2025-03-01",
     "Consent.provision.expires", "Unexpected property"),
    ("audit-extension-bad-value", AUDIT_EVENT, ["extension"], [{"url": "https://x.example/e", "valueNope": 1}],
     "AuditEvent.extension[0].valueNope", "Unexpected property"),
    ("audit-extension-no-url", AUDIT_EVENT, ["extension"], [{"valueString": "s"}],
     "AuditEvent.extension[0].url", "Missing property"),
    # a broken contained resource
    ("doc-contained-patient", DOCUMENT_REFERENCE, ["contained"],
     [{"resourceType": "Patient", "id": "p", "active": "yes"}], "Patient.active",
     'Invalid format for boolean value "yes"'),
]


@pytest.mark.parametrize("base,path,value,location,message",
                         [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_resource_is_invalid(base, path, value, location, message):
    result = fhircheck.validate(variant(base, path, value))
    assert result["valid"] is False
    assert result["results"][0]["valid"] is False
    errors = failing(result)
    assert any(loc == location and message in msg for loc, msg in errors), errors


def test_unknown_resource_type_is_fatal():
    result = fhircheck.validate(variant(CONSENT, ["resourceType"], "Consents"))
    assert result["valid"] is False
    assert [m["severity"] for m in result["results"][0]["messages"]] == ["fatal"]


def test_null_boolean_is_reported_not_crashed():
    # FHIR.js throws on it; validate.js turns that into a fatal message.
    result = fhircheck.validate(variant(AUDIT_EVENT, ["agent", 0, "requestor"], None))
    assert result["valid"] is False
    assert "FHIR.js threw" in failing(result)[0][1]


def test_weak_bindings_only_warn():
    # Consent.scope's binding is extensible: a foreign code is a warning.
    result = fhircheck.validate(variant(CONSENT, ["scope", "coding", 0], {"system": "https://x.example",
                                                                          "code": "bogus"}))
    assert result["valid"] is True
    assert [(m["severity"], m["location"], m["message"]) for m in result["results"][0]["messages"]
            if m["severity"] != "info"] == [
        ("warning", "Consent.scope", 'Code "bogus" (https://x.example) not found in value set')]


# --------------------------------------------------------------------------
# Known gaps of FHIR.js 4.12.0: these broken resources pass. If one starts
# failing, the package got stricter: move it to BROKEN.

def _name_and_query():
    r = copy.deepcopy(AUDIT_EVENT)
    r["entity"][0].update(name="records of p-1", query="cXVlcnk=")
    return r


GAPS = [
    ("instant-number", variant(AUDIT_EVENT, ["recorded"], 42)),
    ("instant-text", variant(AUDIT_EVENT, ["recorded"], "yesterday")),
    ("instant-date-only", variant(DOCUMENT_REFERENCE, ["date"], "2024-03-01")),
    ("instant-in-meta", variant(CONSENT, ["meta"], {"lastUpdated": 5})),
    ("null-required-primitive", variant(AUDIT_EVENT, ["recorded"], None)),
    ("string-number", variant(AUDIT_EVENT, ["outcomeDesc"], 42)),
    ("string-object", variant(AUDIT_EVENT, ["source", "site"], {"a": 1})),
    ("url-number", variant(DOCUMENT_REFERENCE, ["content", 0, "attachment", "url"], 42)),
    ("base64-not-base64", variant(DOCUMENT_REFERENCE, ["content", 0, "attachment", "hash"], "%%% not base64 %%%")),
    ("datetime-unanchored", variant(CONSENT, ["provision", "period", "start"], "2024-13-45xyz")),
    ("unsignedint-negative", variant(DOCUMENT_REFERENCE, ["content", 0, "attachment", "size"], -1)),
    ("unsignedint-fraction", variant(DOCUMENT_REFERENCE, ["content", 0, "attachment", "size"], 1.5)),
    ("id-unanchored", variant(AUDIT_EVENT, ["id"], "has spaces!")),
    ("mimetype-not-bundled", variant(DOCUMENT_REFERENCE, ["content", 0, "attachment", "contentType"], "not/a-type")),
    ("purpose-not-bundled", variant(CONSENT, ["provision", "purpose", 0, "code"], "BOGUS")),
    ("backbone-reference-target", variant(AUDIT_EVENT, ["agent", 0, "who", "reference"], "Consent/consent-1")),
    ("reference-form", variant(CONSENT, ["patient", "reference"], "not a reference")),
    ("invariant-ppc-1", variant(CONSENT, ["policy"], DELETE)),  # neither policy nor policyRule
    ("invariant-per-1", variant(CONSENT, ["provision", "period"], {"start": "2025-01-01", "end": "2024-01-01"})),
    ("invariant-ele-1", variant(AUDIT_EVENT, ["period"], {})),
    ("invariant-sev-1", _name_and_query()),
    ("xhtml-not-checked", variant(DOCUMENT_REFERENCE, ["text"], {"status": "generated", "div": "no xhtml"})),
]


@pytest.mark.parametrize("resource", [g[1] for g in GAPS], ids=[g[0] for g in GAPS])
def test_known_gaps(resource):
    result = fhircheck.validate(resource)
    assert result["valid"] is True, failing(result)


# --------------------------------------------------------------------------
# validate.js's command line and fhircheck's errors


def run_validate_js(args, stdin=b""):
    return subprocess.run(["node", fhircheck.VALIDATE_JS] + args, input=stdin,
                          capture_output=True, timeout=fhircheck.TIMEOUT)


def test_cli_exit_codes(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(DOCUMENT_REFERENCE))
    r = run_validate_js([str(good)])
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 1 and json.loads(r.stdout)["valid"] is True

    r = run_validate_js(["-"], json.dumps(variant(CONSENT, ["status"], "bogus")).encode())
    assert r.returncode == 1
    assert json.loads(r.stdout)["results"][0]["valid"] is False

    for args, stdin in (([str(tmp_path / "missing.json")], b""), ([], b"{not json"), ([], b""),
                        ([], b"[]"), ([], b'"Consent"')):
        r = run_validate_js(args, stdin)
        assert r.returncode == 2, (args, stdin, r.stdout)
        assert json.loads(r.stdout)["valid"] is False and r.stderr


def test_assert_valid_lists_the_errors():
    with pytest.raises(AssertionError, match=r'Consent/consent-1 error at Consent\.status: Code "bogus"'):
        fhircheck.assert_valid(variant(CONSENT, ["status"], "bogus"))


def test_unreadable_input_raises():
    with pytest.raises(fhircheck.FhirInputError, match="not JSON"):
        fhircheck.validate("{")


def test_missing_node_or_package_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(fhircheck, "FHIR_DIR", str(tmp_path))
    with pytest.raises(fhircheck.FhirToolingMissing, match="npm package 'fhir' is not installed"):
        fhircheck.validate(CONSENT)
    monkeypatch.undo()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(fhircheck.FhirToolingMissing, match="node is not installed"):
        fhircheck.validate(CONSENT)
