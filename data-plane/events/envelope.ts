/** The CloudEvents 1.0 envelope (structured JSON mode) every event travels in, and its producer side. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { catalogEntry, type EventDataByType, type EventInputByType, type EventType } from './catalog.js';
import { EventValidationError } from './errors.js';
import { Id, LOWER_CASE_UUID, Timestamp } from './fields.js';
import { describeIssues, show, toEventIssues, unknownKeys } from './issues.js';

/**
 * Largest event, in bytes of its UTF-8 JSON. Well under Kinesis's 1 MiB record limit (so an
 * oversize record can still travel to the dead-letter prefix) and far above any event of the
 * catalog (a few hundred bytes): a record this big is a bug or an attack, not telemetry.
 */
export const MAX_EVENT_BYTES = 64 * 1024;

/** The attributes the catalog reads; any other top-level attribute is a CloudEvents extension. */
export const ENVELOPE_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'time', 'subject', 'dataschema', 'datacontenttype', 'data'] as const;

/** One event in its CloudEvents 1.0 envelope, as producers write it and `parseEvent` returns it. */
export interface EventEnvelope<T extends EventType> {
  readonly specversion: '1.0';
  /** Unique per source (the kit writes a UUID); consumers drop repeats of an id. */
  readonly id: string;
  /** The emitting component, e.g. `control-plane/tenant-manager`. */
  readonly source: string;
  readonly type: T;
  /** When it happened: RFC 3339, UTC, milliseconds (`2024-06-01T12:00:00.000Z`). */
  readonly time: string;
  /** The tenant the event belongs to (its id, a lower-case UUID); the Kinesis partition key. */
  readonly subject: string;
  /** `urn:saas-tenancy-kit:event:<type>:v<N>`: the version `data` follows. */
  readonly dataschema: string;
  readonly datacontenttype: 'application/json';
  readonly data: EventDataByType[T];
}

/**
 * An event of the catalog. Without a type argument it is the union of every type's envelope, so
 * `switch (event.type)` narrows `event.data`.
 */
export type KitEvent<T extends EventType = EventType> = T extends EventType ? EventEnvelope<T> : never;

/** What a producer says; `createEvent` adds the rest of the envelope. */
export interface NewEvent<T extends EventType> {
  readonly type: T;
  /** The emitting component, e.g. `control-plane/tenant-manager`. */
  readonly source: string;
  /** The tenant the event belongs to: a lower-case UUID. */
  readonly tenantId: string;
  /** Data of the latest version of `type`; validated, unknown fields refused. */
  readonly data: EventInputByType[T];
  /** @default - now */
  readonly time?: Date;
  /**
   * Give the same id when re-emitting the same fact (e.g. after a crash), so consumers count it once.
   * @default - a random UUID
   */
  readonly id?: string;
}

const RFC3339_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The digit at `index` of `text` (0-9), or -1 when it is not a digit. */
function digit(text: string, index: number): number {
  const value = text.charCodeAt(index) - 48;
  return value >= 0 && value <= 9 ? value : -1;
}

/**
 * Whether `text` is a real time in the form `Date.prototype.toISOString` writes
 * (`YYYY-MM-DDTHH:mm:ss.sssZ`), the form of every event the kit writes. Checked character by
 * character: it runs on every record, and a regular expression with captures costs several times more.
 */
function isCanonicalTime(text: string): boolean {
  if (text.length !== 24 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return false; // - - T
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return false; // : : . Z
  for (const index of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]) if (digit(text, index) < 0) return false;
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const hour = digit(text, 11) * 10 + digit(text, 12);
  const minute = digit(text, 14) * 10 + digit(text, 15);
  const second = digit(text, 17) * 10 + digit(text, 18);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59;
}

/**
 * An RFC 3339 timestamp (with `Z` or an offset) in the one form events carry: UTC, milliseconds,
 * as `Date.prototype.toISOString` writes it. Undefined when it is not a real time.
 */
export function normalizeTime(value: string): string | undefined {
  if (isCanonicalTime(value)) return value;
  const match = RFC3339_TIME.exec(value);
  if (!match) return undefined;
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(match[1]), month)) return undefined;
  if (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6]) > 59) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** Whether a value can be a tenant id (the `subject`). */
export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && LOWER_CASE_UUID.test(value);
}

/** Size of an event on the wire: bytes of its UTF-8 JSON. */
export function eventBytes(event: unknown): number {
  return Buffer.byteLength(JSON.stringify(event), 'utf8');
}

/**
 * Wraps data in the envelope, in the latest version of its type. Throws an
 * {@link EventValidationError} instead of emitting an event the catalog would refuse.
 */
export function createEvent<T extends EventType>(event: NewEvent<T>): KitEvent<T> {
  const type: string = event.type;
  const entry = catalogEntry(type);
  if (!entry) {
    throw new EventValidationError('unknown-type', type, `Unknown event type ${show(type)}: use one of EVENT_TYPES, or add the type to the catalog (data-plane/events/data).`);
  }
  if (typeof event.source !== 'string' || event.source.length === 0) {
    throw new EventValidationError('not-an-envelope', type, `source must name the emitting component, e.g. "control-plane/tenant-manager"; received ${show(event.source)}.`);
  }
  if (!isTenantId(event.tenantId)) {
    throw new EventValidationError('missing-tenant', type, `tenantId must be the tenant's id, a lower-case UUID; received ${show(event.tenantId)}.`);
  }
  const time = event.time ?? new Date();
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
    throw new EventValidationError('not-an-envelope', type, `time must be a valid Date (or left out for now); received ${show(time)}.`);
  }
  if (event.id !== undefined && (typeof event.id !== 'string' || event.id.length === 0)) {
    throw new EventValidationError('not-an-envelope', type, `id must be a non-empty string (or left out for a random UUID); received ${show(event.id)}.`);
  }
  const parsed = entry.latest.schema.safeParse(event.data);
  const issues = parsed.success ? unknownKeys(event.data, parsed.data) : toEventIssues(parsed.error, event.data);
  if (!parsed.success || issues.length > 0) {
    throw new EventValidationError(
      'invalid-data',
      type,
      `${type} data does not match ${entry.latestDataschema}: ${describeIssues(issues)}. Fix the data (docs/events/${type}.v${entry.latest.version}.schema.json).`,
      { issues, ...(parsed.success ? {} : { cause: parsed.error }) },
    );
  }
  const envelope: EventEnvelope<EventType> = {
    specversion: '1.0',
    id: event.id ?? randomUUID(),
    source: event.source,
    type: entry.type,
    time: time.toISOString(),
    subject: event.tenantId,
    dataschema: entry.latestDataschema,
    datacontenttype: 'application/json',
    data: parsed.data as EventDataByType[EventType],
  };
  const bytes = eventBytes(envelope);
  if (bytes > MAX_EVENT_BYTES) {
    throw new EventValidationError('oversize', type, `The ${type} event is ${bytes} bytes, over MAX_EVENT_BYTES (${MAX_EVENT_BYTES}): shorten its data (long texts, big arrays).`);
  }
  return envelope as KitEvent<T>;
}

/**
 * The envelope of one version of one type as a zod schema: what the published JSON Schema
 * (docs/events/<type>.v<N>.schema.json) describes. Extension attributes are allowed.
 */
export function envelopeSchema(type: EventType, dataschema: string, data: z.ZodType): z.ZodType {
  return z.looseObject({
    specversion: z.literal('1.0').meta({ description: 'CloudEvents version: always "1.0".' }),
    id: z.string().min(1).meta({ description: "Unique per source (the kit's producers write a UUID); consumers drop repeats of an id." }),
    source: z.string().min(1).meta({ description: 'The emitting component, a URI reference, e.g. control-plane/tenant-manager.' }),
    type: z.literal(type).meta({ description: 'The event type.' }),
    time: Timestamp.meta({ description: 'When it happened, RFC 3339; readers get it in UTC with milliseconds.' }),
    subject: Id.meta({ description: 'The tenant the event belongs to (its id, a lower-case UUID); the Kinesis partition key.' }),
    dataschema: z.literal(dataschema).meta({ description: 'The version data follows.' }),
    datacontenttype: z.literal('application/json').optional().meta({ description: 'Always application/json; absent means the same (CloudEvents JSON format).' }),
    data: data.meta({ description: 'What happened: the data of the version dataschema names.' }),
  });
}
