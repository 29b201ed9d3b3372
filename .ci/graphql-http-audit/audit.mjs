// The graphql-http server audits (the GraphQL-over-HTTP spec) against a running gateway.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql   (exits 1 unless every audit is ok)
import { serverAudits } from 'graphql-http';

const EXPECTED = 61;
const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const audits = serverAudits({ url });
for (const audit of audits) {
  const result = await audit.fn();
  counts[result.status] += 1;
  const line = `${result.status.padEnd(6)} ${result.id} ${result.name}`;
  if (result.status === 'ok') {
    console.log(line);
  } else {
    const body = await result.response.text().catch(() => '');
    console.log(`${line}\n       reason: ${result.reason}\n       status ${result.response.status}: ${body.slice(0, 300)}`);
  }
}
console.log(
  `graphql-http audit: ${counts.ok} ok, ${counts.notice} notice, ${counts.warn} warn, ` +
    `${counts.error} error of ${audits.length}`,
);
if (audits.length !== EXPECTED || counts.ok !== EXPECTED) {
  console.error(`graphql-http audit: expected ${EXPECTED} of ${EXPECTED} ok`);
  process.exit(1);
}
