#!/usr/bin/env node
// Validates FHIR R4 JSON resources with the npm package `fhir` (FHIR.js).
//
//   node tests/fhir/validate.js [FILE|-]      (no FILE, or "-": read stdin)
//
// The document is one resource, a JSON array of resources, or a Bundle; a
// Bundle gets a result of its own (validated without its entries' resources)
// and one result per entry resource, nested Bundles likewise. Prints one JSON
// line to stdout:
//
//   {"valid": bool, "fhirVersion": "4.0.1",
//    "results": [{"resourceType", "id", "path", "valid",
//                 "messages": [{"severity", "location", "message"}]}]}
//
// A resource is valid when no message has severity "error" or "fatal".
// Properties that R4 does not define are errors here (errorOnUnexpected).
// Exit status: 0 all valid, 1 any invalid, 2 unreadable input (no such file,
// not JSON, not an object or array, an empty array) or a broken install; the
// JSON line then has "error" and no results, and the reason goes to stderr too.
//
// What FHIR.js checks, and what it does not (e.g. invariants, instant/string/
// uri formats, anchored primitive patterns), is told in
// tests/system/test_fhir_validator.py.
'use strict';

const fs = require('fs');

function fail(message) {
  process.stdout.write(JSON.stringify({ valid: false, error: message, results: [] }) + '\n');
  process.stderr.write('validate.js: ' + message + '\n');
  process.exit(2);
}

let fhirjs;
try {
  fhirjs = require('fhir');
} catch (e) {
  fail('the npm package "fhir" is not installed (run scripts/npm-deps): ' + e.message);
}

// new Fhir() alone would do the same: ParseConformance(true) loads the
// package's pre-parsed profiles (profiles/types.json, valuesets.json), which
// are FHIR 4.0.1, and its version defaults to R4. Say so, and check it, so
// that an upgrade of the package that changes the default cannot slip by.
const parser = new fhirjs.ParseConformance(true, fhirjs.Versions.R4);
const fhir = new fhirjs.Fhir(parser);
const FHIR_VERSION = (() => {
  const consent = parser.parsedStructureDefinitions.Consent;
  const status = consent && consent._properties.find(p => p._name === 'status');
  const m = status && /\|(4\.0\.\d+)$/.exec(status._valueSet || '');
  if (!m || parser.version !== 'R4') {
    fail('the "fhir" package did not load FHIR R4 (4.0.x) definitions');
  }
  return m[1];
})();

const OPTIONS = { errorOnUnexpected: true };
const FAILING = new Set(['error', 'fatal']);

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function validateOne(resource, path) {
  const result = {
    resourceType: isObject(resource) && typeof resource.resourceType === 'string' ? resource.resourceType : null,
    id: isObject(resource) && typeof resource.id === 'string' ? resource.id : null,
    path: path,
    valid: false,
    messages: [],
  };
  if (!isObject(resource)) {
    result.messages.push({ severity: 'fatal', location: '', message: 'not a JSON object' });
    return result;
  }
  let response;
  try {
    response = fhir.validate(resource, OPTIONS);
  } catch (e) {
    // FHIR.js throws on some malformed input (e.g. a null where a boolean goes).
    result.messages.push({ severity: 'fatal', location: '',
                           message: 'FHIR.js threw while validating: ' + String(e && e.message || e) });
    return result;
  }
  result.messages = (response.messages || []).map(m => ({
    severity: m.severity || 'error',
    location: m.location || '',
    message: m.message || '',
  }));
  result.valid = response.valid === true && !result.messages.some(m => FAILING.has(m.severity));
  return result;
}

// A Bundle: its own result without the entries' resources (entry.resource is
// 0..1, so leaving it out changes nothing else), then each entry's resource.
function validateTree(resource, path, out) {
  if (isObject(resource) && resource.resourceType === 'Bundle' && Array.isArray(resource.entry)) {
    const entries = resource.entry;
    const shell = Object.assign({}, resource, {
      entry: entries.map(e => {
        if (!isObject(e) || !isObject(e.resource)) return e;
        const copy = Object.assign({}, e);
        delete copy.resource;
        return copy;
      }),
    });
    out.push(validateOne(shell, path));
    entries.forEach((e, i) => {
      if (isObject(e) && isObject(e.resource)) {
        validateTree(e.resource, (path ? path + '.' : 'Bundle.') + 'entry[' + i + '].resource', out);
      }
    });
  } else {
    out.push(validateOne(resource, path));
  }
}

function main() {
  const args = process.argv.slice(2);
  if (args.length > 1 || (args[0] && args[0].startsWith('-') && args[0] !== '-')) {
    fail('usage: node validate.js [FILE|-]');
  }
  const file = args[0] && args[0] !== '-' ? args[0] : null;
  let text;
  try {
    text = fs.readFileSync(file === null ? 0 : file, 'utf8');
  } catch (e) {
    fail('cannot read ' + (file === null ? 'stdin' : file) + ': ' + e.message);
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail('input is not JSON: ' + e.message);
  }
  const results = [];
  if (Array.isArray(doc)) {
    if (doc.length === 0) fail('input is an empty array: no resource to validate');
    doc.forEach((r, i) => validateTree(r, '[' + i + ']', results));
  } else if (isObject(doc)) {
    validateTree(doc, '', results);
  } else {
    fail('input is neither a resource (JSON object) nor an array of resources');
  }
  const valid = results.every(r => r.valid);
  process.stdout.write(JSON.stringify({ valid: valid, fhirVersion: FHIR_VERSION, results: results }) + '\n');
  process.exitCode = valid ? 0 : 1;
}

main();
