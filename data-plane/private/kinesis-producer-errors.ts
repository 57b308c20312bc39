// The errors of the Kinesis producer, re-exported by kinesis-producer.ts (convention 11: one base class, subclasses set `name`).
import type { KinesisRecord, KinesisRecordFailure } from '../kinesis-producer.js';

/** Base class of the errors of the Kinesis producer. */
export class KinesisProducerError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KinesisProducerError';
  }
}

/** The producer's props, or a record given to `send()`, are invalid; the message says what was received and how to fix it. */
export class KinesisProducerValidationError extends KinesisProducerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KinesisProducerValidationError';
  }
}

/** A record is over Kinesis's 1 MiB (partition key and data together); it is refused before anything is sent. */
export class KinesisRecordTooLargeError extends KinesisProducerValidationError {
  /** The record's size, as Kinesis counts it. */
  public readonly bytes: number;

  public constructor(message: string, bytes: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KinesisRecordTooLargeError';
    this.bytes = bytes;
  }
}

/** `send()` was called after `close()`. */
export class KinesisProducerClosedError extends KinesisProducerError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KinesisProducerClosedError';
  }
}

/**
 * Records were given up on and nobody took them (no `onFailure`, or it threw): `flush()` and `close()`
 * reject with this error, which hands them over in `failures`.
 */
export class KinesisUndeliveredError<R extends KinesisRecord = KinesisRecord> extends KinesisProducerError {
  public readonly failures: readonly KinesisRecordFailure<R>[];

  public constructor(message: string, failures: readonly KinesisRecordFailure<R>[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'KinesisUndeliveredError';
    this.failures = failures;
  }
}
