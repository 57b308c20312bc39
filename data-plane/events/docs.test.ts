/**
 * docs/events and the table of data-plane/README.md are generated from the catalog; this test fails
 * when the committed files differ from what the script would write, so they cannot drift.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_DOCS_DIR, REGENERATE_COMMAND, renderEventDocs, withCatalogTable } from './docs.js';

const root = new URL('../../', import.meta.url);
const read = (path: string): string | undefined => {
  try {
    return readFileSync(new URL(path, root), 'utf8');
  } catch {
    return undefined;
  }
};
const FIX = `out of date: run \`${REGENERATE_COMMAND}\` and commit the result`;
const files = renderEventDocs();

describe(`${EVENT_DOCS_DIR} is what the catalog generates`, () => {
  it.each(files.map((file) => [file.path, file] as const))('%s', (path, file) => {
    expect(read(path), `${path} is ${FIX}`).toBe(file.content);
  });

  it('holds no file the catalog does not generate', () => {
    const wanted = new Set(files.map((file) => file.path));
    const stale = readdirSync(new URL(`${EVENT_DOCS_DIR}/`, root))
      .map((name) => `${EVENT_DOCS_DIR}/${name}`)
      .filter((path) => !wanted.has(path));
    expect(stale, `${EVENT_DOCS_DIR} is ${FIX} (it removes stale schemas)`).toEqual([]);
  });

  it('data-plane/README.md has the current event table', () => {
    const readme = read('data-plane/README.md') ?? '';
    expect(readme, `data-plane/README.md is ${FIX}`).toBe(withCatalogTable(readme));
  });

  it('every schema names its version and carries a valid example', () => {
    for (const file of files.filter((candidate) => candidate.path.endsWith('.schema.json'))) {
      const schema = JSON.parse(file.content) as { $id: string; $schema: string; examples: { dataschema: string }[] };
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(file.path).toContain(schema.$id.replace(/^urn:saas-tenancy-kit:event:(.+):v(\d+)$/, '$1.v$2.schema.json'));
      expect(schema.examples[0]?.dataschema).toBe(schema.$id);
    }
  });
});
