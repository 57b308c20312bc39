/** The reader side: one record off the stream in, one event (latest version) or one reason out. */
import { catalogEntry, readDataschema, type EventDataByType, type EventType } from './catalog.js';
import { ENVELOPE_ATTRIBUTES, MAX_EVENT_BYTES, isTenantId, normalizeTime, type EventEnvelope, type KitEvent } from './envelope.js';
import type { ParseFailureReason } from './errors.js';
import { describeIssues, show, toEventIssues } from './issues.js';

export interface ParseSuccess {
  readonly ok: true;
  /** The event, its data upcast to the latest version of its type (and `dataschema` naming that version). */
  readonly event: KitEvent;
  /** The version the record was written in (`event.dataschema` names the latest). */
  readonly receivedVersion: number;
  /** CloudEvents extension attributes of the record (top-level attributes the catalog does not read), as received. */
  readonly extensions: Readonly<Record<string, unknown>>;
}

export interface ParseFailure {
  readonly ok: false;
  /** Machine-readable: the dead-letter prefix and counter to use. */
  readonly reason: ParseFailureReason;
  /** For people: what is wrong, with the value received. */
  readonly detail: string;
}

export type ParseResult = ParseSuccess | ParseFailure;

const KNOWN_ATTRIBUTES: ReadonlySet<string> = new Set(ENVELOPE_ATTRIBUTES);
const NO_EXTENSIONS: Readonly<Record<string, unknown>> = Object.freeze({});
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(reason: ParseFailureReason, detail: string): ParseFailure {
  return { ok: false, reason, detail };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * Reads one event: a JSON string, its UTF-8 bytes (Buffer, Uint8Array) or an already parsed
 * object. Never throws on bad input: a failure says why, with one of `PARSE_FAILURE_REASONS`.
 * Unknown fields in `data` are dropped (a producer may be a minor revision ahead), unknown
 * top-level attributes are returned as `extensions`. The size limit (`MAX_EVENT_BYTES`) applies
 * to strings and bytes; an object was sized by whoever parsed it.
 */
export function parseEvent(input: unknown): ParseResult {
  let value: unknown = input;
  if (typeof input === 'string') {
    // UTF-8 takes at least one byte per UTF-16 unit and at most three.
    if (input.length > MAX_EVENT_BYTES || (input.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(input, 'utf8') > MAX_EVENT_BYTES)) {
      return fail('oversize', `The record is ${Buffer.byteLength(input, 'utf8')} bytes, over MAX_EVENT_BYTES (${MAX_EVENT_BYTES}).`);
    }
    try {
      value = JSON.parse(input);
    } catch (error) {
      return fail('malformed-json', `The record is not JSON: ${(error as Error).message}`);
    }
  } else if (input instanceof Uint8Array) {
    if (input.byteLength > MAX_EVENT_BYTES) {
      return fail('oversize', `The record is ${input.byteLength} bytes, over MAX_EVENT_BYTES (${MAX_EVENT_BYTES}).`);
    }
    let text: string;
    try {
      text = utf8.decode(input);
    } catch {
      return fail('malformed-json', 'The record is not UTF-8 text, so not JSON.');
    }
    try {
      value = JSON.parse(text);
    } catch (error) {
      return fail('malformed-json', `The record is not JSON: ${(error as Error).message}`);
    }
  }
  try {
    return readEnvelope(value);
  } catch (error) {
    // Only exotic objects get here (a getter or a proxy that throws): JSON never does.
    return fail('not-an-envelope', `The record could not be read: ${error instanceof Error ? error.message : show(error)}`);
  }
}

function readEnvelope(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not-an-envelope', `Expected a CloudEvents envelope (a JSON object); received ${kindOf(value)}.`);
  }
  const record = value as Record<string, unknown>;
  const { specversion, id, source, type, time, subject, dataschema, datacontenttype } = record;
  if (specversion !== '1.0') return fail('not-an-envelope', `specversion must be "1.0" (CloudEvents 1.0); received ${show(specversion)}.`);
  if (typeof id !== 'string' || id.length === 0) return fail('not-an-envelope', `id must be a non-empty string; received ${show(id)}.`);
  if (typeof source !== 'string' || source.length === 0) return fail('not-an-envelope', `source must be a non-empty string; received ${show(source)}.`);
  if (typeof type !== 'string' || type.length === 0) return fail('not-an-envelope', `type must be a non-empty string; received ${show(type)}.`);
  const normalizedTime = typeof time === 'string' ? normalizeTime(time) : undefined;
  if (normalizedTime === undefined) return fail('not-an-envelope', `time must be an RFC 3339 timestamp, e.g. "2024-06-01T12:00:00.000Z"; received ${show(time)}.`);
  if (datacontenttype !== undefined && datacontenttype !== 'application/json') {
    return fail('not-an-envelope', `datacontenttype must be "application/json" (or absent); received ${show(datacontenttype)}.`);
  }
  if (!isTenantId(subject)) {
    return fail('missing-tenant', `subject must be the tenant id, a lower-case UUID; received ${show(subject)}.`);
  }

  const entry = catalogEntry(type);
  if (!entry) return fail('unknown-type', `type ${show(type)} is not in the event catalog (docs/events/README.md).`);
  // Most records are of the latest version: comparing strings is cheaper than hashing one.
  const version = dataschema === entry.latestDataschema ? entry.latest : typeof dataschema === 'string' ? entry.byDataschema.get(dataschema) : undefined;
  if (!version) return fail('unknown-version', unknownVersionDetail(type, dataschema, entry.byDataschema.size));

  if (!('data' in record)) {
    return fail('invalid-data', 'data_base64' in record ? 'data_base64 (binary data) is not supported: catalog events carry JSON data.' : 'data is missing.');
  }
  const parsed = version.schema.safeParse(record.data);
  if (!parsed.success) {
    return fail('invalid-data', `data does not match ${dataschema as string}: ${describeIssues(toEventIssues(parsed.error, record.data))}.`);
  }
  let data: unknown;
  try {
    data = version.toLatest(parsed.data);
  } catch (error) {
    return fail('invalid-data', `data of ${dataschema as string} could not be upcast to ${entry.latestDataschema}: ${error instanceof Error ? error.message : show(error)}`);
  }

  const event: EventEnvelope<EventType> = {
    specversion: '1.0',
    id,
    source,
    type: entry.type,
    time: normalizedTime,
    subject,
    dataschema: entry.latestDataschema,
    datacontenttype: 'application/json',
    data: data as EventDataByType[EventType],
  };
  return { ok: true, event: event as KitEvent, receivedVersion: version.version, extensions: extensionsOf(record) };
}

function extensionsOf(record: Record<string, unknown>): Readonly<Record<string, unknown>> {
  let extensions: Record<string, unknown> | undefined;
  for (const key in record) {
    if (!KNOWN_ATTRIBUTES.has(key) && Object.hasOwn(record, key)) {
      extensions ??= {};
      // defineProperty: a `__proto__` attribute stays a plain key.
      Object.defineProperty(extensions, key, { value: record[key], enumerable: true, writable: true, configurable: true });
    }
  }
  return extensions ?? NO_EXTENSIONS;
}

function unknownVersionDetail(type: string, dataschema: unknown, known: number): string {
  const range = known === 1 ? 'v1' : `v1 to v${known}`;
  if (typeof dataschema !== 'string') return `dataschema must name the version of ${type}'s data, urn:saas-tenancy-kit:event:${type}:v<N> (${range}); received ${show(dataschema)}.`;
  const named = readDataschema(dataschema);
  if (!named) return `dataschema must be urn:saas-tenancy-kit:event:${type}:v<N> (${range}); received ${show(dataschema)}.`;
  if (named.type !== type) return `dataschema ${show(dataschema)} is of type ${named.type}, but the event is a ${type}.`;
  return `${type} has ${range}; received v${named.version} (${dataschema}). A newer producer? Deploy the consumer with the newer catalog.`;
}
