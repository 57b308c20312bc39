/**
 * The aggregator's fast path: one `JSON.parse`, then hand-written checks of the envelope and of the
 * data fields of the types that come by the million (sessions, uploads, jobs). Whatever these checks do
 * not accept goes through the full `parseEvent`, which gives the exact reason of a refusal and reads
 * every other type and every older version. The checks are the catalog's schemas restated: a record
 * they accept is one `parseEvent` accepts with the same values (the tests hold them to that).
 */
import { catalogEntry, type EventType } from '../events/catalog.js';
import { MAX_EVENT_BYTES } from '../events/envelope.js';
import type { ParseFailureReason } from '../events/errors.js';
import { parseEvent } from '../events/parse.js';

/** What the aggregator does with a type: a small integer, so that the hot path switches on numbers, not strings. */
export const Kind = {
  other: 0,
  registered: 1,
  login: 2,
  logout: 3,
  uploaded: 4,
  datasetCreated: 5,
  datasetDeleted: 6,
  jobSubmitted: 7,
  jobStarted: 8,
  jobSucceeded: 9,
  jobFailed: 10,
  jobCancelled: 11,
} as const;

export type Kind = (typeof Kind)[keyof typeof Kind];

const KIND_OF: ReadonlyMap<string, Kind> = new Map<EventType, Kind>([
  ['tenant.registered', Kind.registered],
  ['user.login', Kind.login],
  ['user.logout', Kind.logout],
  ['datalake.object.uploaded', Kind.uploaded],
  ['datalake.dataset.created', Kind.datasetCreated],
  ['datalake.dataset.deleted', Kind.datasetDeleted],
  ['job.submitted', Kind.jobSubmitted],
  ['job.started', Kind.jobStarted],
  ['job.succeeded', Kind.jobSucceeded],
  ['job.failed', Kind.jobFailed],
  ['job.cancelled', Kind.jobCancelled],
]);

/**
 * An event as the aggregator reads it: the fields it uses, copied out of the parsed JSON so that a
 * batch held between reading and applying keeps a few strings and numbers per record, not whole trees.
 */
export class Fact {
  public readonly ok = true as const;
  /** `userId` of a session event or of a job submitted by a user, else empty. */
  public readonly userId: string;
  /** `sessionId` of a session event, else empty. */
  public readonly sessionId: string;
  /** `bytes` of an upload, `sizeBytes` of a dataset event, `durationMs` of an ended job; else 0. */
  public readonly amount: number;
  /** `vcpuMs` of an ended job, else 0. */
  public readonly vcpuMs: number;
  /** `bytesRead` of an ended job, else 0. */
  public readonly bytesRead: number;
  /** `bytesWritten` of an ended job, else 0. */
  public readonly bytesWritten: number;

  public constructor(
    public readonly id: string,
    public readonly kind: Kind,
    /** The tenant (`subject`). */
    public readonly tenantId: string,
    /** Event time, epoch milliseconds (UTC). */
    public readonly timeMs: number,
    /** The data, in the latest version of the type (read here, not kept). */
    data: Readonly<Record<string, unknown>>,
  ) {
    const session = kind === Kind.login || kind === Kind.logout;
    const ended = kind >= Kind.jobSucceeded;
    this.userId = session ? (data.userId as string) : kind === Kind.jobSubmitted ? ((data.userId as string | null | undefined) ?? '') : '';
    this.sessionId = session ? (data.sessionId as string) : '';
    this.amount = ended ? (data.durationMs as number) : kind === Kind.uploaded ? (data.bytes as number) : kind === Kind.datasetCreated || kind === Kind.datasetDeleted ? (data.sizeBytes as number) : 0;
    this.vcpuMs = ended ? (data.vcpuMs as number) : 0;
    this.bytesRead = ended ? (data.bytesRead as number) : 0;
    this.bytesWritten = ended ? (data.bytesWritten as number) : 0;
  }
}

export interface Refusal {
  readonly ok: false;
  readonly reason: ParseFailureReason;
  readonly detail: string;
}


/** 1 for the lower-case hex digits, by char code. */
const HEX = new Uint8Array(128);
for (const digit of '0123456789abcdef') HEX[digit.charCodeAt(0)] = 1;

/** The subject and the data UUID last accepted: a tenant's, a user's and a job's ids repeat from record to record, and comparing is cheaper than checking. */
let lastSubject = '';
let lastUuid = '';

function isSubject(value: unknown): value is string {
  if (value === lastSubject) return true;
  if (!isUuidForm(value)) return false;
  lastSubject = value;
  return true;
}

function isUuid(value: unknown): value is string {
  if (value === lastUuid) return true;
  if (!isUuidForm(value)) return false;
  lastUuid = value;
  return true;
}

function isUuidForm(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 36) return false;
  if (value.charCodeAt(8) !== 45 || value.charCodeAt(13) !== 45 || value.charCodeAt(18) !== 45 || value.charCodeAt(23) !== 45) return false;
  for (let index = 0; index < 36; index += 1) {
    // Out-of-range codes read undefined, which is not 1.
    if (HEX[value.charCodeAt(index)] !== 1 && index !== 8 && index !== 13 && index !== 18 && index !== 23) return false;
  }
  return true;
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isText(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

function hasUsage(data: Record<string, unknown>): boolean {
  return isUuid(data.jobId) && isCount(data.durationMs) && isCount(data.vcpuMs) && isCount(data.bytesRead) && isCount(data.bytesWritten);
}

function isStepName(value: unknown): boolean {
  return value === 'load' || value === 'transform' || value === 'process' || value === 'persist';
}

function isSteps(value: unknown): boolean {
  if (!Array.isArray(value) || value.length < 1 || value.length > 64) return false;
  for (const step of value) if (!isStepName(step)) return false;
  return true;
}

interface FastType {
  readonly kind: Kind;
  /** `dataschema` of the latest version: older versions take the full path (and its upcast). */
  readonly dataschema: string;
  /** The latest version's data schema, restated. */
  readonly check: (data: Record<string, unknown>) => boolean;
}

function fastType(type: EventType, check: (data: Record<string, unknown>) => boolean): FastType {
  return { kind: KIND_OF.get(type) ?? Kind.other, dataschema: catalogEntry(type)?.latestDataschema ?? '', check };
}

const sessionCheck = (data: Record<string, unknown>): boolean => isUuid(data.userId) && isText(data.sessionId, 128);
const datasetCheck = (data: Record<string, unknown>): boolean => isUuid(data.datasetId) && isText(data.name, 255) && isCount(data.sizeBytes);

const LOGIN = fastType('user.login', sessionCheck);
const LOGOUT = fastType('user.logout', sessionCheck);
const UPLOADED = fastType('datalake.object.uploaded', (data) => (data.datasetId === undefined || isUuid(data.datasetId)) && isText(data.key, 1024) && isCount(data.bytes));
const DATASET_CREATED = fastType('datalake.dataset.created', datasetCheck);
const DATASET_DELETED = fastType('datalake.dataset.deleted', datasetCheck);
const JOB_SUBMITTED = fastType(
  'job.submitted',
  (data) =>
    isUuid(data.jobId) &&
    isSteps(data.steps) &&
    (data.inputDatasetId === undefined || isUuid(data.inputDatasetId)) &&
    typeof data.requestedVcpu === 'number' &&
    data.requestedVcpu > 0 &&
    Number.isFinite(data.requestedVcpu) &&
    (data.userId === null || isUuid(data.userId)),
);
const JOB_STARTED = fastType('job.started', (data) => isUuid(data.jobId) && isCount(data.queuedMs));
const JOB_SUCCEEDED = fastType('job.succeeded', hasUsage);
const JOB_FAILED = fastType('job.failed', (data) => hasUsage(data) && (data.failedStep === null || isStepName(data.failedStep)) && isText(data.reason, 1024));
const JOB_CANCELLED = fastType('job.cancelled', hasUsage);

/**
 * The hand-checked types. A switch, not a Map: the type strings JSON.parse makes are new each time, and
 * comparing them against constants costs less than hashing them.
 */
function fastTypeOf(type: string): FastType | undefined {
  switch (type) {
    case 'user.login':
      return LOGIN;
    case 'user.logout':
      return LOGOUT;
    case 'datalake.object.uploaded':
      return UPLOADED;
    case 'datalake.dataset.created':
      return DATASET_CREATED;
    case 'datalake.dataset.deleted':
      return DATASET_DELETED;
    case 'job.submitted':
      return JOB_SUBMITTED;
    case 'job.started':
      return JOB_STARTED;
    case 'job.succeeded':
      return JOB_SUCCEEDED;
    case 'job.failed':
      return JOB_FAILED;
    case 'job.cancelled':
      return JOB_CANCELLED;
    default:
      return undefined;
  }
}

function digitAt(text: string, index: number): number {
  const value = text.charCodeAt(index) - 48;
  return value >= 0 && value <= 9 ? value : -100_000;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Epoch milliseconds of a time in the form `toISOString` writes (`2024-06-01T12:00:00.000Z`), or NaN for
 * any other form (the full path normalizes those).
 */
export function canonicalTimeMs(text: string): number {
  if (text.length !== 24) return NaN;
  // Events come in rough time order: most fall in the hour read last, whose date and hour are then compared, not parsed.
  if (text.startsWith(lastHour)) {
    const rest = minutesMs(text);
    return rest < 0 ? NaN : lastHourMs + rest;
  }
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return NaN;
  const year = digitAt(text, 0) * 1000 + digitAt(text, 1) * 100 + digitAt(text, 2) * 10 + digitAt(text, 3);
  const month = digitAt(text, 5) * 10 + digitAt(text, 6);
  const day = digitAt(text, 8) * 10 + digitAt(text, 9);
  const hour = digitAt(text, 11) * 10 + digitAt(text, 12);
  const rest = minutesMs(text);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour < 0 || hour > 23 || rest < 0) return NaN;
  lastHour = text.slice(0, 13);
  lastHourMs = daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000;
  return lastHourMs + rest;
}

/** `YYYY-MM-DDTHH` of the last hour `canonicalTimeMs` read (checked), and its start. */
let lastHour = '1970-01-01T00';
let lastHourMs = 0;

/** Milliseconds into the hour of the `:MM:SS.mmmZ` that ends a 24-character time, or -1 for another form. */
function minutesMs(text: string): number {
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return -1;
  const minute = digitAt(text, 14) * 10 + digitAt(text, 15);
  const second = digitAt(text, 17) * 10 + digitAt(text, 18);
  const ms = digitAt(text, 20) * 100 + digitAt(text, 21) * 10 + digitAt(text, 22);
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return -1;
  return minute * 60_000 + second * 1000 + ms;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm): `Date.UTC` without the call into the runtime. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The fast checks; undefined when the record must take the full path. */
function fastRead(value: unknown): Fact | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const { type, specversion, id, source, time, subject, dataschema, datacontenttype, data } = record;
  const fast = typeof type === 'string' ? fastTypeOf(type) : undefined;
  if (fast === undefined || specversion !== '1.0' || dataschema !== fast.dataschema) return undefined;
  if (typeof id !== 'string' || id.length === 0 || typeof source !== 'string' || source.length === 0) return undefined;
  if (datacontenttype !== undefined && datacontenttype !== 'application/json') return undefined;
  if (typeof time !== 'string' || !isSubject(subject)) return undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const timeMs = canonicalTimeMs(time);
  if (Number.isNaN(timeMs)) return undefined;
  if (!fast.check(data as Record<string, unknown>)) return undefined;
  return new Fact(id, fast.kind, subject, timeMs, data as Record<string, unknown>);
}

/** The full path: `parseEvent`, for a refusal's exact reason and for the types and versions the fast path leaves to it. */
function fullRead(bytes: Uint8Array): Fact | Refusal {
  const parsed = parseEvent(bytes);
  if (!parsed.ok) return parsed;
  const { event } = parsed;
  return new Fact(event.id, KIND_OF.get(event.type) ?? Kind.other, event.subject, Date.parse(event.time), event.data);
}

/** Faster than a Buffer's toString on Node 20 (no Buffer object per record); a BOM is kept, so JSON.parse refuses it as parseEvent does. */
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Reads one Kinesis record's data: a fact for the aggregator, or the reason `parseEvent` refuses it
 * (one of `PARSE_FAILURE_REASONS`). Never throws.
 */
export function readRecord(bytes: Uint8Array): Fact | Refusal {
  if (bytes.byteLength > MAX_EVENT_BYTES) return fullRead(bytes);
  const text = UTF8.decode(bytes);
  // The decoder replaces bytes that are not UTF-8 with U+FFFD where parseEvent refuses them: let it decide.
  if (text.includes('\uFFFD')) return fullRead(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fullRead(bytes);
  }
  return fastRead(value) ?? fullRead(bytes);
}
