#!/usr/bin/env node
// Parses GS1 codes with GS1's Digital Link toolkit (GS1DigitalLinkToolkit.js,
// shipped inside the npm package digital-link.js), to cross-check
// carechain's parser (tests/system/test_gs1_crosscheck.py).
//
//   node tests/gs1/parse.js < codes.json
//
// Reads a JSON array of codes on stdin: bracketed element strings
// "(01)…(21)…", scanned element strings (GS as FNC1, optional symbology
// identifier) and Digital Link URIs. Writes one JSON array to stdout, one
// result per code:
//
//   {"ok": true, "ais": {"01": "09506000134352", "21": "XYZ123", ...}}
//   {"ok": false, "error": "INVALID CHECK DIGIT: ..."}
//
// A code is accepted when the toolkit extracts its AIs and every value
// passes the toolkit's own checks: verifySyntax (the AI's format: length and
// character set) and verifyCheckDigit (GTINs and other keys). The toolkit
// applies both itself to Digital Link URIs, but not to element strings; here
// they are applied to every form alike. A Digital Link must also match GS1's
// Digital Link ABNF grammar (the package's DigitalLink(...).isValid()).
// Exit status: 0, or 2 when the input is not a JSON array of strings or the
// package is missing (run scripts/npm-deps).
'use strict';

function fail(message) {
  process.stderr.write('parse.js: ' + message + '\n');
  process.exit(2);
}

let DigitalLink, Toolkit;
try {
  ({ DigitalLink } = require('digital-link.js'));
  Toolkit = require('digital-link.js/lib/GS1DigitalLinkCompressionPrototype/GS1DigitalLinkToolkit.js');
} catch (e) {
  fail('the npm package "digital-link.js" is not installed (run scripts/npm-deps): ' + e.message);
}

// The toolkit logs to the console as it goes (e.g. "numkey=21"); only our
// JSON may reach stdout.
console.log = () => {};

const toolkit = new Toolkit();

function parse(code) {
  const isLink = /^https?:\/\//.test(code);
  const ais = isLink ? toolkit.extractFromGS1digitalLink(code).GS1 : toolkit.extractFromGS1elementStrings(code);
  for (const [ai, value] of Object.entries(ais)) {
    toolkit.verifySyntax(ai, value);
    toolkit.verifyCheckDigit(ai, value);
  }
  if (isLink && !DigitalLink(code).isValid()) throw new Error('not a GS1 Digital Link by its ABNF grammar');
  return ais;
}

let codes;
try {
  codes = JSON.parse(require('fs').readFileSync(0, 'utf8'));
} catch (e) {
  fail('stdin is not JSON: ' + e.message);
}
if (!Array.isArray(codes) || !codes.every(c => typeof c === 'string')) fail('stdin must be a JSON array of strings');

const results = codes.map(code => {
  try {
    return { ok: true, ais: parse(code) };
  } catch (e) {
    // The toolkit throws Errors and, from verifySyntax, plain strings.
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(results) + '\n');
