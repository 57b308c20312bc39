// Input checks of the Kinesis producer: its props, and each record given to send().
import type { KinesisProducerProps, KinesisRecord } from '../kinesis-producer.js';
import { KinesisProducerValidationError, KinesisRecordTooLargeError } from './kinesis-producer-errors.js';
import {
  describeBytes,
  isExplicitHashKey,
  isStreamName,
  MAX_BYTES_PER_REQUEST,
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORD_BYTES,
  MAX_RECORDS_PER_REQUEST,
  recordBytes,
} from './kinesis-limits.js';

const encoder = new TextEncoder();

/** A record in the producer's hands, with what the producer tracks of it. */
export interface Entry<R> {
  readonly record: R;
  readonly data: Uint8Array;
  readonly bytes: number;
  /** The flush generation it was accepted in. */
  generation: number;
  /** When it entered the queue, for the linger time. */
  queuedAt: number;
  attempts: number;
  errorCode: string;
  errorMessage: string;
}

/** The producer's props, checked, with their defaults. */
export interface Settings {
  readonly lingerMs: number;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
  readonly maxBufferedRecords: number;
  readonly maxBufferedBytes: number;
  readonly maxConcurrentRequests: number;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export function prepare<R extends KinesisRecord>(record: R): Entry<R> {
  if (typeof record !== 'object' || record === null) {
    throw new KinesisProducerValidationError(
      `KinesisProducer.send: a record must be an object { partitionKey, data }, received ${describe(record)}.`,
    );
  }
  const { partitionKey, data, explicitHashKey } = record;
  if (typeof partitionKey !== 'string' || partitionKey.length === 0 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new KinesisProducerValidationError(
      `KinesisProducer.send: partitionKey must be a string of 1 to ${MAX_PARTITION_KEY_LENGTH} characters, received ${describe(partitionKey)}. Use the tenant id.`,
    );
  }
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new KinesisProducerValidationError(
      `KinesisProducer.send: data must be a string or a Uint8Array, received ${describe(data)}. Serialize the event first (JSON.stringify).`,
    );
  }
  if (explicitHashKey !== undefined && (typeof explicitHashKey !== 'string' || !isExplicitHashKey(explicitHashKey))) {
    throw new KinesisProducerValidationError(
      `KinesisProducer.send: explicitHashKey must be a decimal integer from 0 to 2^128 - 1, received ${describe(explicitHashKey)}. Leave it out to hash the partition key.`,
    );
  }
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  const size = recordBytes(partitionKey, bytes);
  if (size > MAX_RECORD_BYTES) {
    throw new KinesisRecordTooLargeError(
      `KinesisProducer.send: the record for partition key ${JSON.stringify(partitionKey.slice(0, 64))} is ${describeBytes(size)} (${size} bytes, partition key and data), over Kinesis's limit of 1 MiB (${MAX_RECORD_BYTES} bytes). Store the payload in S3 and send a reference to it, or split it.`,
      size,
    );
  }
  return { record, data: bytes, bytes: size, generation: 0, queuedAt: 0, attempts: 0, errorCode: '', errorMessage: '' };
}

export function errorParts(error: unknown): { code: string; message: string } {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' && error.name === 'Error' ? error.code : error.name;
    return { code, message: error.message };
  }
  return { code: 'Error', message: String(error) };
}

export function streamOf<R extends KinesisRecord>(props: KinesisProducerProps<R>, problems: string[]): { readonly StreamName: string } | { readonly StreamARN: string } {
  const { streamName, streamArn } = props;
  if (streamName !== undefined && streamArn !== undefined) {
    problems.push(`give streamName or streamArn, not both (received ${JSON.stringify(streamName)} and ${JSON.stringify(streamArn)})`);
  } else if (streamArn !== undefined) {
    if (typeof streamArn !== 'string' || !/^arn:aws[\w-]*:kinesis:[\w-]+:\d{12}:stream\/[\w.-]{1,128}$/.test(streamArn)) {
      problems.push(`streamArn must be a Kinesis stream ARN, received ${describe(streamArn)}: arn:aws:kinesis:<region>:<account>:stream/<name>`);
    } else {
      return { StreamARN: streamArn };
    }
  } else if (streamName === undefined) {
    problems.push('streamName is missing: pass the stream name (or streamArn for a stream of another account)');
  } else if (!isStreamName(streamName)) {
    problems.push(`streamName must be 1 to 128 letters, digits, '_', '.' or '-', received ${describe(streamName)}`);
  } else {
    return { StreamName: streamName };
  }
  return { StreamName: '' };
}

export function settingsOf<R extends KinesisRecord>(props: KinesisProducerProps<R>, problems: string[]): Settings {
  const integer = (name: keyof KinesisProducerProps, value: number | undefined, fallback: number, min: number, max: number, fix: string): number => {
    const chosen = value ?? fallback;
    if (typeof chosen !== 'number' || !Number.isInteger(chosen) || chosen < min || chosen > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, received ${describe(chosen)}: ${fix}`);
      return fallback;
    }
    return chosen;
  };
  const settings: Settings = {
    lingerMs: integer('lingerMs', props.lingerMs, 100, 0, 60_000, 'use 0 to send at once, or leave it out for 100 ms'),
    maxBatchRecords: integer('maxBatchRecords', props.maxBatchRecords, MAX_RECORDS_PER_REQUEST, 1, MAX_RECORDS_PER_REQUEST, 'Kinesis takes at most 500 records per PutRecords'),
    maxBatchBytes: integer(
      'maxBatchBytes',
      props.maxBatchBytes,
      MAX_BYTES_PER_REQUEST,
      MAX_RECORD_BYTES,
      MAX_BYTES_PER_REQUEST,
      'Kinesis takes at most 5 MiB per PutRecords, and a batch must fit a 1 MiB record',
    ),
    maxBufferedRecords: integer('maxBufferedRecords', props.maxBufferedRecords, 10_000, 1, Number.MAX_SAFE_INTEGER, 'leave it out for 10000'),
    maxBufferedBytes: integer(
      'maxBufferedBytes',
      props.maxBufferedBytes,
      32 * 1024 * 1024,
      MAX_RECORD_BYTES,
      Number.MAX_SAFE_INTEGER,
      'the buffer must fit a 1 MiB record; leave it out for 32 MiB',
    ),
    maxConcurrentRequests: integer('maxConcurrentRequests', props.maxConcurrentRequests, 4, 1, 256, 'leave it out for 4'),
    maxAttempts: integer('maxAttempts', props.maxAttempts, 10, 1, 1000, 'use 1 to never retry, or leave it out for 10'),
    baseDelayMs: integer('baseDelayMs', props.baseDelayMs, 100, 0, 3_600_000, 'leave it out for 100 ms'),
    maxDelayMs: integer('maxDelayMs', props.maxDelayMs, 5000, 0, 3_600_000, 'leave it out for 5000 ms'),
  };
  if (settings.maxDelayMs < settings.baseDelayMs) {
    problems.push(`maxDelayMs (${settings.maxDelayMs}) is below baseDelayMs (${settings.baseDelayMs}): raise maxDelayMs or lower baseDelayMs`);
  }
  return settings;
}

export function describe(value: unknown): string {
  if (value === undefined) {
    return 'undefined';
  }
  if (typeof value === 'function') {
    return 'a function';
  }
  if (value instanceof Uint8Array) {
    return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  }
  if (typeof value === 'object' && value !== null) {
    const type = (value as { constructor?: { name?: string } }).constructor?.name;
    if (type !== undefined && type !== 'Object' && type !== 'Array') {
      return `a ${type}`;
    }
  }
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return typeof value === 'bigint' ? `${value}n` : 'a value JSON cannot show';
  }
}
