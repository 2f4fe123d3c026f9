"""FHIR R4 validation for the system tests, through tests/fhir/validate.js
(the npm package `fhir`, FHIR.js). Install node and the package with
scripts/npm-deps.

    validate(resources) -> {"valid": bool, "fhirVersion": "4.0.1",
                            "results": [{"resourceType", "id", "path", "valid",
                                         "messages": [{"severity", "location", "message"}]}]}
    assert_valid(resources)   # AssertionError listing the errors when invalid

`resources` is one resource (a dict; a Bundle's entries are validated too),
a list of them, or a JSON text. What FHIR.js does and does not check is told
in test_fhir_validator.py.
"""
import json
import os
import shutil
import subprocess

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FHIR_DIR = os.path.join(REPO_ROOT, "tests", "fhir")
VALIDATE_JS = os.path.join(FHIR_DIR, "validate.js")
TIMEOUT = 120  # seconds; one run takes well under one on an idle machine

FAILING = ("error", "fatal")


class FhirToolingMissing(RuntimeError):
    """node, or the npm package `fhir` under tests/fhir, is not installed."""


class FhirInputError(ValueError):
    """validate.js could not read the document (exit 2): not JSON, not a
    resource or an array of them, an empty array."""


def _node():
    node = shutil.which("node")
    if node is None:
        raise FhirToolingMissing("node is not installed (run scripts/npm-deps)")
    if not os.path.isfile(os.path.join(FHIR_DIR, "node_modules", "fhir", "package.json")):
        raise FhirToolingMissing(f"the npm package 'fhir' is not installed in {FHIR_DIR} "
                                 "(run scripts/npm-deps)")
    return node


def validate(resources):
    """Validates a resource, a Bundle, a list of resources or a JSON text
    against FHIR R4; returns validate.js's parsed result."""
    if isinstance(resources, bytes):
        data = resources
    elif isinstance(resources, str):
        data = resources.encode()
    else:
        data = json.dumps(resources).encode()
    r = subprocess.run([_node(), VALIDATE_JS], input=data, capture_output=True,
                       timeout=TIMEOUT, cwd=FHIR_DIR)
    stderr = r.stderr.decode(errors="replace").strip()
    if r.returncode == 2:
        if "not installed" in stderr:
            raise FhirToolingMissing(stderr)
        raise FhirInputError(stderr or "validate.js: unreadable input")
    if r.returncode not in (0, 1):
        raise RuntimeError(f"validate.js exited {r.returncode}: {stderr}")
    try:
        result = json.loads(r.stdout)
    except ValueError as e:
        raise RuntimeError(f"validate.js printed no JSON ({e}): {r.stdout[:500]!r} {stderr}") from e
    if result.get("valid") is not (r.returncode == 0):
        raise RuntimeError(f"validate.js exited {r.returncode} but said valid={result.get('valid')}")
    return result


def messages(result, severities=FAILING):
    """The messages of a validate() result with one of `severities`, each as
    'ResourceType/id (path) location: message'."""
    out = []
    for res in result["results"]:
        name = f"{res['resourceType']}/{res['id']}"
        if res.get("path"):
            name += f" ({res['path']})"
        for m in res["messages"]:
            if m["severity"] in severities:
                out.append(f"{name} {m['severity']} at {m['location'] or '-'}: {m['message']}")
    return out


def assert_valid(resources):
    """Fails (AssertionError) with every error and fatal message unless all
    resources are valid FHIR R4; returns the validate() result."""
    result = validate(resources)
    if not result["valid"]:
        raise AssertionError("not valid FHIR R4:\n  " + "\n  ".join(messages(result)))
    return result
