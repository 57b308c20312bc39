/** Kinesis Data Streams limits the producer holds to (PutRecords API reference). */

/** Most records in one PutRecords request. */
export const MAX_RECORDS_PER_REQUEST = 500;

/** Most bytes in one PutRecords request, counting each record's partition key (UTF-8) and data. */
export const MAX_BYTES_PER_REQUEST = 5 * 1024 * 1024;

/** Most bytes of one record: partition key (UTF-8) plus data. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Longest partition key, in characters (UTF-16 code units here: never more than Kinesis counts). */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** Whether a value is a Kinesis stream name: 1 to 128 letters, digits, '_', '.' or '-'. */
export function isStreamName(value: unknown): value is string {
  return typeof value === 'string' && /^[\w.-]{1,128}$/.test(value);
}

/** A decimal integer from 0 to 2^128 - 1. */
const EXPLICIT_HASH_KEY = /^(0|[1-9]\d{0,38})$/;
const MAX_HASH_KEY = (1n << 128n) - 1n;

export function isExplicitHashKey(value: string): boolean {
  return EXPLICIT_HASH_KEY.test(value) && BigInt(value) <= MAX_HASH_KEY;
}

/** Bytes Kinesis counts for a record: its partition key in UTF-8 plus its data. */
export function recordBytes(partitionKey: string, data: Uint8Array): number {
  return Buffer.byteLength(partitionKey, 'utf8') + data.byteLength;
}

/** Human-readable size, for messages: `1.5 MiB`, `12 KiB`, `300 bytes`. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) {
    return `${(bytes / (1024 * 1024)).toFixed(2).replace(/\.?0+$/, '')} MiB`;
  }
  if (bytes >= 1024) {
    return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  }
  return `${bytes} bytes`;
}

/**
 * Capped exponential backoff with full jitter: a uniform delay in [0, min(cap, base * 2^(attempt - 1))).
 * `attempt` is the number of attempts already made (1 after the first).
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

/** Error codes a PutRecords call fails with as a whole that no retry can fix: the request itself is wrong. */
export const NON_RETRYABLE_CALL_ERRORS: ReadonlySet<string> = new Set(['ValidationException', 'InvalidArgumentException', 'SerializationException']);
