/**
 * Regenerates docs/events (a JSON Schema per version of each event type, and the index) and the
 * catalog table of data-plane/README.md from the zod schemas. Removes schema files of versions the
 * catalog no longer has. Run after changing the catalog:
 *
 *   npx tsx data-plane/scripts/write-event-schemas.ts
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_DOCS_DIR, renderEventDocs, withCatalogTable } from '../events/docs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const files = renderEventDocs();
const wanted = new Set(files.map((file) => file.path));

mkdirSync(`${root}${EVENT_DOCS_DIR}`, { recursive: true });
for (const name of readdirSync(`${root}${EVENT_DOCS_DIR}`)) {
  const path = `${EVENT_DOCS_DIR}/${name}`;
  if (name.endsWith('.schema.json') && !wanted.has(path)) {
    rmSync(`${root}${path}`);
    console.log(`removed ${path}`);
  }
}
let changed = 0;
for (const file of files) {
  let current: string | undefined;
  try {
    current = readFileSync(`${root}${file.path}`, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== file.content) {
    writeFileSync(`${root}${file.path}`, file.content);
    changed += 1;
    console.log(`wrote ${file.path}`);
  }
}
const readmePath = `${root}data-plane/README.md`;
const readme = readFileSync(readmePath, 'utf8');
const updated = withCatalogTable(readme);
if (updated !== readme) {
  writeFileSync(readmePath, updated);
  changed += 1;
  console.log('wrote data-plane/README.md (event table)');
}
console.log(changed === 0 ? `${EVENT_DOCS_DIR} is up to date (${files.length} files).` : `${changed} file(s) updated.`);
