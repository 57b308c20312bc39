/**
 * The catalog: every event type, every version of its data. The zod schemas are the single
 * source of truth: the TypeScript types below are inferred from them, the JSON Schemas in
 * docs/events are generated from them, and `createEvent` / `parseEvent` validate with them.
 */
import type { z } from 'zod';
import { BILLING_EVENTS } from './data/billing.js';
import { DATALAKE_EVENTS } from './data/datalake.js';
import type { EventDefinition } from './data/define.js';
import { JOB_EVENTS } from './data/job.js';
import { TENANT_EVENTS } from './data/tenant.js';
import { USER_EVENTS } from './data/user.js';
import { EventCatalogError } from './errors.js';
import type { DataVersion } from './versions.js';

export const EVENT_CATALOG = {
  ...TENANT_EVENTS,
  ...USER_EVENTS,
  ...DATALAKE_EVENTS,
  ...JOB_EVENTS,
  ...BILLING_EVENTS,
} satisfies Record<string, EventDefinition>;

type Catalog = typeof EVENT_CATALOG;

/** Every event type the catalog knows. */
export type EventType = keyof Catalog;

/** Read-only all the way down: events are facts, consumers never change them. */
export type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type LatestSchema<T extends EventType> = Catalog[T]['versions']['latest'];

/** The data of each type as readers get it: the latest version (`z.infer` of its schema). */
export type EventDataByType = { readonly [T in EventType]: DeepReadonly<z.output<LatestSchema<T>>> };

/** The data a producer hands to `createEvent` (`z.input` of the latest schema: e.g. a plan is any string, checked at run time). */
export type EventInputByType = { readonly [T in EventType]: DeepReadonly<z.input<LatestSchema<T>>> };

/** Every event type, in catalog order. */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(Object.keys(EVENT_CATALOG) as EventType[]);

/** Every `dataschema` starts with this; then `<type>:v<N>`. */
export const DATASCHEMA_PREFIX = 'urn:saas-tenancy-kit:event:';

const DATASCHEMA_FORM = /^urn:saas-tenancy-kit:event:(.+):v([1-9][0-9]{0,5})$/;

/** A type as the hot path sees it: everything precomputed. */
export interface CatalogEntry {
  readonly type: EventType;
  readonly definition: EventDefinition;
  readonly latest: DataVersion;
  /** `dataschema` URN of the latest version: what producers write. */
  readonly latestDataschema: string;
  /** Every version by its `dataschema` URN. */
  readonly byDataschema: ReadonlyMap<string, DataVersion>;
}

function urn(type: string, version: number): string {
  return `${DATASCHEMA_PREFIX}${type}:v${version}`;
}

const ENTRIES: ReadonlyMap<string, CatalogEntry> = new Map(
  EVENT_TYPES.map((type) => {
    const definition: EventDefinition = EVENT_CATALOG[type];
    const versions = definition.versions.all;
    const latest = versions[versions.length - 1];
    if (!latest) throw new EventCatalogError(`Event type ${type} has no version: give it one with DataVersions.of(schema, example).`);
    const entry: CatalogEntry = {
      type,
      definition,
      latest,
      latestDataschema: urn(type, latest.version),
      byDataschema: new Map(versions.map((version) => [urn(type, version.version), version])),
    };
    return [type, entry];
  }),
);

/** The catalog entry of a type, or undefined when the catalog does not know it. */
export function catalogEntry(type: string): CatalogEntry | undefined {
  return ENTRIES.get(type);
}

/** Reads a `dataschema` URN; undefined when it is not of the catalog's form. */
export function readDataschema(dataschema: string): { readonly type: string; readonly version: number } | undefined {
  const match = DATASCHEMA_FORM.exec(dataschema);
  return match?.[1] && match[2] ? { type: match[1], version: Number(match[2]) } : undefined;
}

/**
 * The `dataschema` URN of a version of a type: `urn:saas-tenancy-kit:event:<type>:v<N>`.
 *
 * @param version @default - the latest version, the one producers write
 */
export function dataSchemaOf(type: EventType, version?: number): string {
  const entry = ENTRIES.get(type);
  if (!entry) throw new EventCatalogError(`Unknown event type ${JSON.stringify(type)}: use one of EVENT_TYPES (${EVENT_TYPES.join(', ')}).`);
  if (version === undefined) return entry.latestDataschema;
  const known = entry.definition.versions.all.length;
  if (!Number.isInteger(version) || version < 1 || version > known) {
    throw new EventCatalogError(`Event type ${type} has versions 1 to ${known}; received version ${String(version)}.`);
  }
  return urn(type, version);
}
