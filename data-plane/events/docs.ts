/**
 * Renders docs/events from the catalog: one JSON Schema (draft 2020-12) per version of each type,
 * an index (README.md), and the table of data-plane/README.md. Pure: the script writes what this
 * returns, and the docs test compares it with what is committed.
 */
import { z } from 'zod';
import { EVENT_CATALOG, EVENT_TYPES, dataSchemaOf, type EventType } from './catalog.js';
import { envelopeSchema } from './envelope.js';
import { EventCatalogError } from './errors.js';
import type { DataVersion } from './versions.js';

/** Where the generated files live, relative to the repository root. */
export const EVENT_DOCS_DIR = 'docs/events';

/** The command that regenerates them. */
export const REGENERATE_COMMAND = 'npx tsx data-plane/scripts/write-event-schemas.ts';

/** data-plane/README.md keeps the catalog table between these two lines. */
export const TABLE_START = '<!-- event-catalog:start (generated: run npx tsx data-plane/scripts/write-event-schemas.ts) -->';
export const TABLE_END = '<!-- event-catalog:end -->';

/** Fixed values of the examples, so the docs are the same on every run. */
const EXAMPLE = { id: '3f2a6c1e-8b4d-4f7a-9c2e-1d0b5a4e3f21', time: '2024-06-01T12:00:00.000Z', tenantId: '5b0b7a43-8f0e-4c55-9f3c-0d3c4f4a2a11' };

export interface DocFile {
  /** Relative to the repository root, with forward slashes. */
  readonly path: string;
  readonly content: string;
}

/** The parts of a JSON Schema the docs read. */
interface JsonSchema {
  readonly [keyword: string]: unknown;
  readonly type?: string;
  readonly anyOf?: readonly JsonSchema[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly description?: string;
}

export function schemaFileName(type: string, version: number): string {
  return `${type}.v${version}.schema.json`;
}

/** An example event of one version of a type, as a producer of that version wrote it. */
export function exampleEvent(type: EventType, version: DataVersion): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: EXAMPLE.id,
    source: EVENT_CATALOG[type].producer,
    type,
    time: EXAMPLE.time,
    subject: EXAMPLE.tenantId,
    dataschema: dataSchemaOf(type, version.version),
    datacontenttype: 'application/json',
    data: version.example,
  };
}

function versionsOf(type: EventType): readonly DataVersion[] {
  return EVENT_CATALOG[type].versions.all;
}

/** The published JSON Schema of one version of a type: the whole envelope, `data` of that version. */
export function eventJsonSchema(type: EventType, version: DataVersion): JsonSchema {
  const dataschema = dataSchemaOf(type, version.version);
  const { $schema, ...schema } = z.toJSONSchema(envelopeSchema(type, dataschema, version.schema), { target: 'draft-2020-12' }) as JsonSchema;
  const latest = versionsOf(type).length;
  const status = version.version === latest ? 'the latest version: producers write it' : `superseded by v${latest}: readers upcast it`;
  return {
    $schema,
    $id: dataschema,
    title: `${type} v${version.version}`,
    description: `${EVENT_CATALOG[type].description} Version ${version.version}, ${status}.${version.change ? ` Changed from v${version.version - 1}: ${version.change}` : ''}`,
    ...schema,
    examples: [exampleEvent(type, version)],
  };
}

// ---- Markdown ------------------------------------------------------------------------------

const escape = (text: string): string => text.replaceAll('|', '\\|');

const code = (text: string): string => `\`${text}\``;

/** A JSON Schema type, short, for a table cell. */
function typeOf(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' or ');
  if (schema.const !== undefined) return code(JSON.stringify(schema.const));
  if (schema.enum) return schema.enum.map((value) => code(JSON.stringify(value))).join(', ');
  switch (schema.type) {
    case 'array': {
      const bounds = [schema.minItems === undefined ? '' : `at least ${schema.minItems}`, schema.maxItems === undefined ? '' : `at most ${schema.maxItems}`].filter(Boolean);
      return `array of ${schema.items ? typeOf(schema.items) : 'any'}${bounds.length > 0 ? ` (${bounds.join(', ')})` : ''}`;
    }
    case 'integer':
    case 'number': {
      const bounds = [
        schema.minimum === undefined ? '' : `>= ${schema.minimum}`,
        schema.exclusiveMinimum === undefined ? '' : `> ${schema.exclusiveMinimum}`,
        schema.maximum === undefined || schema.maximum === Number.MAX_SAFE_INTEGER ? '' : `<= ${schema.maximum}`,
      ].filter(Boolean);
      return `${schema.type}${bounds.length > 0 ? ` ${bounds.join(', ')}` : ''}`;
    }
    case 'string': {
      if (schema.format !== undefined) return `string (${schema.format})`;
      if (schema.pattern !== undefined) return `string matching ${code(schema.pattern)}`;
      const [min, max] = [schema.minLength, schema.maxLength];
      if (max !== undefined) return `string of ${min ?? 0}-${max} characters`;
      if (min !== undefined) return min === 1 ? 'non-empty string' : `string of at least ${min} characters`;
      return 'string';
    }
    default:
      return schema.type ?? 'any';
  }
}

interface FieldRow {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

/** The fields of an object schema, nested objects (also nullable ones) flattened to `a.b`. */
function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const required = new Set(schema.required);
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => {
    const path = `${prefix}${name}`;
    const row: FieldRow = { path, type: typeOf(property), required: required.has(name), description: property.description ?? '' };
    const nested = [property, ...(property.anyOf ?? [])].find((candidate) => candidate.type === 'object');
    return [row, ...(nested ? fieldRows(nested, `${path}.`) : [])];
  });
}

function dataSchemaJson(version: DataVersion): JsonSchema {
  return z.toJSONSchema(version.schema, { target: 'draft-2020-12' }) as JsonSchema;
}

/** Names of the top-level data fields, optional ones marked `?`. */
function fieldList(version: DataVersion): string {
  const schema = dataSchemaJson(version);
  const required = new Set(schema.required);
  return Object.keys(schema.properties ?? {})
    .map((name) => (required.has(name) ? name : `${name}?`))
    .join(', ');
}

/** The table of types: one row per type, fields of the latest version. Links are relative to `linkBase`. */
export function renderCatalogTable(linkBase: string): string {
  const rows = EVENT_TYPES.map((type) => {
    const versions = versionsOf(type);
    const latest = versions[versions.length - 1];
    const links = versions.map((version) => `[v${version.version}](${linkBase}${schemaFileName(type, version.version)})`).join(', ');
    return `| ${code(type)} | ${links} | ${escape(fieldList(latest))} | ${escape(EVENT_CATALOG[type].description)} |`;
  });
  return ['| type | versions | data fields (latest version; `?` optional) | what happened |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function renderEnvelopeTable(): string {
  const [type, version] = [EVENT_TYPES[0], versionsOf(EVENT_TYPES[0])[0]];
  const rows = fieldRows(eventJsonSchema(type, version))
    .filter((row) => !row.path.startsWith('data.'))
    .map((row) => {
      const value = row.path === 'type' ? 'the event type' : row.path === 'dataschema' ? code('urn:saas-tenancy-kit:event:<type>:v<N>') : row.path === 'data' ? 'the data of that version (below)' : escape(row.type);
      return `| ${code(row.path)} | ${row.required ? 'yes' : 'no'} | ${value} | ${escape(row.description)} |`;
    });
  return ['| attribute | required | value | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function renderType(type: EventType): string {
  const definition = EVENT_CATALOG[type];
  const versions = versionsOf(type);
  const sections = [...versions].reverse().map((version) => {
    const rows = fieldRows(dataSchemaJson(version)).map(
      (row) => `| ${code(row.path)} | ${escape(row.type)} | ${row.required ? 'yes' : 'no'} | ${escape(row.description)} |`,
    );
    const latest = version.version === versions.length;
    return [
      `### v${version.version}${latest ? ' (latest)' : ''}: ${code(dataSchemaOf(type, version.version))}`,
      '',
      `Schema: [${schemaFileName(type, version.version)}](${schemaFileName(type, version.version)}).${version.change ? ` Changed from v${version.version - 1}: ${version.change}` : ''}`,
      '',
      '| field | type | required | meaning |',
      '| --- | --- | --- | --- |',
      ...rows,
      '',
      'Example data:',
      '',
      '```json',
      JSON.stringify(version.example),
      '```',
    ].join('\n');
  });
  return [`## ${code(type)}`, '', `${definition.description} Emitted by ${code(definition.producer)}.`, '', ...sections.flatMap((section) => [section, ''])].join('\n');
}

function renderIndex(): string {
  const example = exampleEvent('tenant.registered', versionsOf('tenant.registered')[0]);
  return [
    '# Event catalog',
    '',
    `Generated from the zod schemas in \`data-plane/events/data/\` by \`${REGENERATE_COMMAND}\`: do not edit. ` +
      '`data-plane/events/docs.test.ts` fails when a file here differs from what the script would write.',
    '',
    'Every event is a CloudEvents 1.0 envelope in structured JSON mode. `subject` is the tenant id and the Kinesis partition key. ' +
      'Each `<type>.v<N>.schema.json` is a JSON Schema (draft 2020-12) of the whole envelope of one version of one type; its `$id` is the `dataschema` URN.',
    '',
    '## Envelope',
    '',
    renderEnvelopeTable(),
    '',
    'Other top-level attributes are CloudEvents extensions: readers accept them and hand them on (`parseEvent` returns them as `extensions`).',
    '',
    '```json',
    JSON.stringify(example, null, 2),
    '```',
    '',
    '## Rules',
    '',
    '- Within a version, data only gains optional fields. Anything else (a field removed, renamed, retyped or made required) is a new version with an upcast from the one before.',
    '- Producers write the latest version, and exactly its fields: `createEvent` refuses unknown fields (the schemas say `additionalProperties: false`).',
    '- Readers accept every version: `parseEvent` picks the schema by `dataschema`, upcasts the data to the latest version, and drops data fields it does not know ' +
      '(so that a producer ahead by an optional field does not send its events to the dead-letter prefix).',
    '- `time` reaches readers in UTC with milliseconds (`2024-06-01T12:00:00.000Z`).',
    '',
    '## Types',
    '',
    renderCatalogTable(''),
    '',
    ...EVENT_TYPES.map(renderType),
  ]
    .join('\n')
    .trimEnd()
    .concat('\n');
}

/** Every file of docs/events, in a stable order. */
export function renderEventDocs(): DocFile[] {
  const schemas = EVENT_TYPES.flatMap((type) =>
    versionsOf(type).map((version) => ({
      path: `${EVENT_DOCS_DIR}/${schemaFileName(type, version.version)}`,
      content: `${JSON.stringify(eventJsonSchema(type, version), null, 2)}\n`,
    })),
  );
  return [{ path: `${EVENT_DOCS_DIR}/README.md`, content: renderIndex() }, ...schemas];
}

/** data-plane/README.md with its catalog table replaced by the current one. Throws when the markers are missing. */
export function withCatalogTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new EventCatalogError(`data-plane/README.md must contain the lines\n${TABLE_START}\n${TABLE_END}\naround the event table.`);
  }
  return `${readme.slice(0, start + TABLE_START.length)}\n${renderCatalogTable('../docs/events/')}\n${readme.slice(end)}`;
}
