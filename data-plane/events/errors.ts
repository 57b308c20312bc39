/** Errors of the event catalog (convention 11: a base class, subclasses set `name` and pass `cause`). */

/**
 * Why an event was refused: `parseEvent` returns one of these, and `createEvent` throws an
 * {@link EventValidationError} with the same code, so producers and the dead-letter prefix speak
 * the same words.
 */
export const PARSE_FAILURE_REASONS = [
  /** The record is not JSON (or not UTF-8). */
  'malformed-json',
  /** JSON, but not a CloudEvents 1.0 envelope: not an object, wrong `specversion`, `id`/`source`/`type`/`time` missing or invalid, unsupported `datacontenttype`. */
  'not-an-envelope',
  /** `type` is not in the catalog. */
  'unknown-type',
  /** `dataschema` is missing, malformed, of another type, or names a version the catalog does not have. */
  'unknown-version',
  /** `data` is missing or does not match the schema of its version. */
  'invalid-data',
  /** `subject` (the tenant id) is missing or not a lower-case UUID. */
  'missing-tenant',
  /** The record is larger than `MAX_EVENT_BYTES`. */
  'oversize',
] as const;

export type ParseFailureReason = (typeof PARSE_FAILURE_REASONS)[number];

/** Base of every error the event catalog throws. */
export class EventCatalogError extends Error {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'EventCatalogError';
  }
}

/** One problem found in an event's data, e.g. `{ path: 'bytes', message: 'Too small: expected number to be >=0 (received -1)' }`. */
export interface EventIssue {
  /** Dotted path inside `data`; empty for the data object itself. */
  readonly path: string;
  readonly message: string;
}

/** A producer tried to create an event the catalog would refuse: `createEvent` throws it instead of emitting. */
export class EventValidationError extends EventCatalogError {
  /** Machine-readable reason, the one `parseEvent` would report for the same event. */
  public readonly code: Exclude<ParseFailureReason, 'malformed-json'>;
  /** The event type the producer asked for (may be unknown). */
  public readonly type: string;
  /** Problems in `data` (empty unless `code` is `invalid-data`). */
  public readonly issues: readonly EventIssue[];

  public constructor(
    code: Exclude<ParseFailureReason, 'malformed-json'>,
    type: string,
    message: string,
    options?: { readonly cause?: unknown; readonly issues?: readonly EventIssue[] },
  ) {
    super(message, options);
    this.name = 'EventValidationError';
    this.code = code;
    this.type = type;
    this.issues = options?.issues ?? [];
  }
}
