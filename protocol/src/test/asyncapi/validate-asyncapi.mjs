// Parses an AsyncAPI document with the reference parser, which checks what a JSON Schema cannot:
// that every $ref resolves, that operations use their channel's messages, and the AsyncAPI
// ruleset. Prints one line per diagnostic; exits 1 if any is an error or a warning, 2 on a
// usage problem. Used by AsyncApiParserIT.
import { Parser, fromFile } from '@asyncapi/parser';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const file = process.argv[2];
if (!file) {
  console.error('usage: node validate-asyncapi.mjs <asyncapi.yaml>');
  process.exit(2);
}
const { document, diagnostics } = await fromFile(new Parser(), file).parse();
let failed = !document;
for (const d of diagnostics) {
  const severity = SEVERITY[d.severity] ?? String(d.severity);
  failed ||= d.severity <= 1;
  console.log(`${severity} ${d.code} at /${d.path.join('/')}: ${d.message}`);
}
console.log(failed ? `INVALID ${file}` : `VALID ${file}`);
process.exit(failed ? 1 : 0);
