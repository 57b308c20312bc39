import { PutRecordsCommand, type KinesisClient, type PutRecordsCommandOutput, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { pino, type Logger } from 'pino';

import { Fifo } from './private/fifo.js';
import { backoffDelay, NON_RETRYABLE_CALL_ERRORS } from './private/kinesis-limits.js';
import { KinesisProducerClosedError, KinesisProducerError, KinesisProducerValidationError, KinesisUndeliveredError } from './private/kinesis-producer-errors.js';
import { describe, errorParts, prepare, settingsOf, streamOf, type Entry, type Settings } from './private/kinesis-producer-input.js';

export {
  KinesisProducerClosedError,
  KinesisProducerError,
  KinesisProducerValidationError,
  KinesisRecordTooLargeError,
  KinesisUndeliveredError,
} from './private/kinesis-producer-errors.js';

/** One record for a Kinesis data stream. */
export interface KinesisRecord {
  /**
   * Chooses the shard (its MD5 hash, unless `explicitHashKey` is given): 1 to 256 characters. The event
   * layer passes the tenant id, so that one tenant's events share a shard.
   */
  readonly partitionKey: string;
  /** The payload: bytes, or text sent as UTF-8. Partition key and data together are at most 1 MiB. */
  readonly data: Uint8Array | string;
  /** A hash key that overrides the partition key's hash: a decimal integer from 0 to 2^128 - 1. */
  readonly explicitHashKey?: string;
}

/** A record the producer gave up on, with the last reason Kinesis (or the SDK) gave. */
export interface KinesisRecordFailure<R extends KinesisRecord = KinesisRecord> {
  /** The record, as it was passed to `send()` (the same object). */
  readonly record: R;
  /** The last error code: a PutRecords entry's `ErrorCode` (`ProvisionedThroughputExceededException`, `InternalFailure`, `KMS...`) or the name of the error a whole call failed with (`ResourceNotFoundException`, `TimeoutError`, ...). */
  readonly errorCode: string;
  /** The last error message. */
  readonly errorMessage: string;
  /** PutRecords attempts made for the record. */
  readonly attempts: number;
}

/**
 * Receives the records the producer gave up on (attempts exhausted, or a request no retry can fix), in
 * groups. The producer waits for the returned promise: `flush()` resolves only after it. When it throws, the
 * records are kept, and the next `flush()` (or `close()`) rejects with a `KinesisUndeliveredError` carrying them.
 */
export type KinesisFailureHandler<R extends KinesisRecord = KinesisRecord> = (failures: readonly KinesisRecordFailure<R>[]) => void | Promise<void>;

/** Counters since the producer was created, and what it holds now. */
export interface KinesisProducerStats {
  /** Records Kinesis accepted. */
  readonly sent: number;
  /** Record re-sends after a failed entry or a failed call (a record sent three times counts two). */
  readonly retried: number;
  /** Records given up on: handed to `onFailure`, or kept for `flush()` to report. */
  readonly failed: number;
  /** PutRecords calls made, answered or not. */
  readonly batches: number;
  /** PutRecords calls that failed as a whole (throttled, unreachable, stream missing, ...). */
  readonly failedCalls: number;
  /** Bytes of the records Kinesis accepted (partition keys and data, as Kinesis counts them). */
  readonly bytes: number;
  /** Records held now: waiting to be sent, in flight, waiting to be retried, or given up and not yet handed over. */
  readonly buffered: number;
  /** Bytes of the records held now. */
  readonly bufferedBytes: number;
}

export interface KinesisProducerProps<R extends KinesisRecord = KinesisRecord> {
  /**
   * The client to send PutRecords with. Its own retry strategy still applies inside each attempt of the
   * producer (give it `maxAttempts: 1` to leave retries to the producer alone).
   */
  readonly client: KinesisClient;
  /** The stream, by name. Give this or `streamArn`. */
  readonly streamName?: string;
  /**
   * The stream, by ARN: needed for a stream of another account (a silo tenant writing to the central stream).
   * Give this or `streamName`; kinesalite knows streams by name only.
   */
  readonly streamArn?: string;
  /**
   * How long a record may wait for others to fill its batch. A batch also goes as soon as it is full, when
   * a retry is due, while senders wait for room in the buffer, and during `flush()` and `close()`.
   * @default 100
   */
  readonly lingerMs?: number;
  /**
   * Most records per PutRecords request, up to Kinesis's 500.
   * @default 500
   */
  readonly maxBatchRecords?: number;
  /**
   * Most bytes per PutRecords request (partition keys and data), from 1 MiB up to Kinesis's 5 MiB.
   * @default 5 MiB (5_242_880)
   */
  readonly maxBatchBytes?: number;
  /**
   * Most records held at once (queued, in flight, waiting for a retry). When full, `send()` waits for room.
   * @default 10_000
   */
  readonly maxBufferedRecords?: number;
  /**
   * Most bytes held at once; at least 1 MiB, so that any record fits. When full, `send()` waits for room.
   * @default 32 MiB (33_554_432)
   */
  readonly maxBufferedBytes?: number;
  /**
   * Most PutRecords requests in flight at once.
   * @default 4
   */
  readonly maxConcurrentRequests?: number;
  /**
   * PutRecords attempts per record, the first included, before it is given up on.
   * @default 10
   */
  readonly maxAttempts?: number;
  /**
   * Backoff before the second attempt; it doubles per attempt up to `maxDelayMs`, and each wait is drawn
   * uniformly below it (full jitter).
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * Cap of the backoff between attempts.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /**
   * Receives the records given up on, for a spool or an outbox to take them back: `(failures) => spool.put(failures)`.
   * @default - records given up on are kept (and count in the buffer); the next `flush()` or `close()` rejects with a `KinesisUndeliveredError` carrying them
   */
  readonly onFailure?: KinesisFailureHandler<R>;
  /**
   * Logger: retries at `debug`, failed calls at `warn`, records given up on at `error`.
   * @default - a silent logger
   */
  readonly logger?: Logger;
}

interface SpaceWaiter<R> {
  readonly entry: Entry<R>;
  readonly resolve: () => void;
}

interface FlushWaiter {
  readonly generation: number;
  readonly resolve: () => void;
}

/**
 * Puts records on a Kinesis data stream in PutRecords batches (at most 500 records and 5 MiB each), retries
 * failed entries and failed calls with capped exponential backoff and full jitter, and hands the records it
 * gives up on to `onFailure`: a record is delivered, handed over, or reported by `flush()`; never dropped.
 *
 * - `send(record)` resolves when the record is accepted into the buffer, not when it is delivered. While
 *   the buffer is full (`maxBufferedRecords` or `maxBufferedBytes`), it waits for room, in call order: a
 *   caller that awaits each `send()` slows down to the pace of the stream. A record that can never be sent
 *   (over 1 MiB, a bad partition key) is refused at once.
 * - `flush()` resolves once every record accepted before the call is delivered or handed to `onFailure`.
 * - `close()` refuses new records, lets in those already waiting for room, flushes, and stops.
 *
 * Kinesis keeps no order between the records of one PutRecords call that fail and are retried and the
 * records behind them; neither does this producer. Consumers order by the event time and dedupe by event id
 * (a call that fails after Kinesis stored its records, such as a lost response, is sent again).
 */
export class KinesisProducer<R extends KinesisRecord = KinesisRecord> {
  private readonly client: KinesisClient;
  private readonly stream: { readonly StreamName: string } | { readonly StreamARN: string };
  private readonly settings: Settings;
  private readonly onFailure: KinesisFailureHandler<R> | undefined;
  private readonly logger: Logger;

  /** Fresh records, waiting for a batch. */
  private readonly queue = new Fifo<Entry<R>>();
  private queuedBytes = 0;
  /** Records whose backoff is over, sent before fresh ones. */
  private readonly retries = new Fifo<Entry<R>>();
  private readonly spaceWaiters = new Fifo<SpaceWaiter<R>>();
  private flushWaiters: FlushWaiter[] = [];
  /** Records given up on that nobody took: handed over by the next flush(). */
  private undelivered: KinesisRecordFailure<R>[] = [];
  private undeliveredEntries: Entry<R>[] = [];
  /** What `onFailure` threw, for the records it did not take. */
  private undeliveredCauses: unknown[] = [];

  /** Records not yet delivered or handed over, by flush generation (oldest generation first). */
  private readonly unsettled = new Map<number, number>();
  private generation = 0;
  private flushing = 0;
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private sent = 0;
  private retried = 0;
  private failed = 0;
  private batches = 0;
  private failedCalls = 0;
  private bytes = 0;
  private buffered = 0;
  private bufferedBytes = 0;

  public constructor(props: KinesisProducerProps<R>) {
    const problems: string[] = [];
    if (typeof props.client?.send !== 'function') {
      problems.push(`client must be a KinesisClient, received ${describe(props.client)}: pass new KinesisClient({ ... })`);
    }
    this.stream = streamOf(props, problems);
    this.settings = settingsOf(props, problems);
    if (props.onFailure !== undefined && typeof props.onFailure !== 'function') {
      problems.push(`onFailure must be a function, received ${describe(props.onFailure)}: pass (failures) => spool.put(failures), or leave it out`);
    }
    if (problems.length > 0) {
      throw new KinesisProducerValidationError(`KinesisProducer: ${problems.join('; ')}.`);
    }
    this.client = props.client;
    this.onFailure = props.onFailure;
    this.logger = props.logger ?? pino({ level: 'silent' });
  }

  /**
   * Accepts a record into the buffer. Resolves as soon as it is accepted, which waits while the buffer is
   * full; rejects at once with a `KinesisProducerValidationError` (`KinesisRecordTooLargeError` over 1 MiB)
   * for a record Kinesis would refuse, or a `KinesisProducerClosedError` after `close()`.
   */
  public send(record: R): Promise<void> {
    if (this.closed) {
      return Promise.reject(new KinesisProducerClosedError('KinesisProducer.send: the producer is closed. Create another producer, or send before close().'));
    }
    let entry: Entry<R>;
    try {
      entry = prepare(record);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new KinesisProducerError(String(error)));
    }
    if (this.spaceWaiters.length === 0 && this.hasRoomFor(entry)) {
      this.admit(entry);
      this.pump();
      return Promise.resolve();
    }
    const accepted = new Promise<void>((resolve) => this.spaceWaiters.push({ entry, resolve }));
    this.pump();
    return accepted;
  }

  /**
   * Sends what is buffered without waiting for the linger time, and resolves once every record accepted
   * before this call is delivered or handed to `onFailure`. Rejects with a `KinesisUndeliveredError` when
   * records were given up on and nobody took them (they are in its `failures`, and leave the buffer).
   */
  public async flush(): Promise<void> {
    const generation = this.generation;
    this.generation += 1;
    this.flushing += 1;
    try {
      this.pump();
      await this.settled(generation);
    } finally {
      this.flushing -= 1;
    }
    this.handOverUndelivered();
  }

  /**
   * Refuses new records, accepts those already waiting for room, delivers everything (as `flush()`), and
   * stops its timers. Safe to call twice. Rejects like `flush()`, with every record nobody took.
   */
  public close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  /** Counters since creation, and what is held now. */
  public stats(): KinesisProducerStats {
    return {
      sent: this.sent,
      retried: this.retried,
      failed: this.failed,
      batches: this.batches,
      failedCalls: this.failedCalls,
      bytes: this.bytes,
      buffered: this.buffered,
      bufferedBytes: this.bufferedBytes,
    };
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    const failures: KinesisRecordFailure<R>[] = [];
    const causes: unknown[] = [];
    do {
      try {
        await this.flush();
      } catch (error) {
        if (error instanceof KinesisUndeliveredError) {
          failures.push(...(error.failures as readonly KinesisRecordFailure<R>[]));
          if (error.cause !== undefined) {
            causes.push(error.cause);
          }
        } else {
          throw error;
        }
      }
    } while (this.spaceWaiters.length > 0 || this.unsettled.size > 0);
    this.clearLingerTimer();
    if (failures.length > 0) {
      throw undeliveredError(failures, causes);
    }
  }

  private hasRoomFor(entry: Entry<R>): boolean {
    return (
      this.buffered === 0 ||
      (this.buffered < this.settings.maxBufferedRecords && this.bufferedBytes + entry.bytes <= this.settings.maxBufferedBytes)
    );
  }

  private admit(entry: Entry<R>): void {
    entry.generation = this.generation;
    entry.queuedAt = Date.now();
    this.unsettled.set(entry.generation, (this.unsettled.get(entry.generation) ?? 0) + 1);
    this.buffered += 1;
    this.bufferedBytes += entry.bytes;
    this.queue.push(entry);
    this.queuedBytes += entry.bytes;
  }

  /** Lets waiting senders in, in order, while there is room. */
  private admitWaiters(): void {
    let waiter = this.spaceWaiters.peek();
    while (waiter !== undefined && this.hasRoomFor(waiter.entry)) {
      this.spaceWaiters.shift();
      this.admit(waiter.entry);
      waiter.resolve();
      waiter = this.spaceWaiters.peek();
    }
  }

  /** Starts as many PutRecords requests as are due and allowed; otherwise arms the linger timer. */
  private pump(): void {
    while (this.inFlight < this.settings.maxConcurrentRequests && (this.retries.length > 0 || this.freshBatchDue())) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      this.put(batch).catch((error: unknown) => {
        // put() handles the errors of the call and of onFailure; anything else is a bug, and its records stay unsettled.
        this.logger.error({ err: error, records: batch.length }, 'KinesisProducer failed to process a PutRecords answer');
      });
    }
    if (this.queue.length > 0 && this.inFlight < this.settings.maxConcurrentRequests && this.lingerTimer === undefined) {
      const oldest = this.queue.peek() as Entry<R>;
      const wait = Math.max(0, oldest.queuedAt + this.settings.lingerMs - Date.now());
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.pump();
      }, wait);
    }
  }

  private freshBatchDue(): boolean {
    const oldest = this.queue.peek();
    if (oldest === undefined) {
      return false;
    }
    return (
      this.flushing > 0 ||
      this.closed ||
      // Senders are waiting for room: lingering would only keep them waiting.
      this.spaceWaiters.length > 0 ||
      this.queue.length >= this.settings.maxBatchRecords ||
      this.queuedBytes >= this.settings.maxBatchBytes ||
      Date.now() - oldest.queuedAt >= this.settings.lingerMs
    );
  }

  /** Takes the next batch: retries first, then fresh records, within the record and byte limits. */
  private takeBatch(): Entry<R>[] {
    const batch: Entry<R>[] = [];
    let bytes = 0;
    for (const source of [this.retries, this.queue]) {
      let next = source.peek();
      while (next !== undefined && batch.length < this.settings.maxBatchRecords && bytes + next.bytes <= this.settings.maxBatchBytes) {
        source.shift();
        if (source === this.queue) {
          this.queuedBytes -= next.bytes;
        }
        next.attempts += 1;
        batch.push(next);
        bytes += next.bytes;
        next = source.peek();
      }
      if (next !== undefined) {
        break;
      }
    }
    if (this.queue.length === 0) {
      this.clearLingerTimer();
    }
    return batch;
  }

  private async put(batch: Entry<R>[]): Promise<void> {
    const retry: Entry<R>[] = [];
    const giveUp: Entry<R>[] = [];
    this.batches += 1;
    try {
      let output: PutRecordsCommandOutput | undefined;
      let callError: unknown;
      try {
        output = await this.client.send(new PutRecordsCommand({ ...this.stream, Records: batch.map(requestEntry) }));
      } catch (error) {
        callError = error;
      }
      const results = output?.Records;
      if (output === undefined || results === undefined || results.length !== batch.length) {
        // The call failed as a whole (or its answer does not say which entry is which): every record gets another attempt.
        this.failedCalls += 1;
        const { code, message } =
          output === undefined
            ? errorParts(callError)
            : { code: 'InvalidResponse', message: `PutRecords answered ${results?.length ?? 'no'} results for ${batch.length} records` };
        const retryable = !NON_RETRYABLE_CALL_ERRORS.has(code);
        this.logger.warn({ code, message, records: batch.length, retryable }, 'Kinesis PutRecords call failed');
        for (const entry of batch) {
          entry.errorCode = code;
          entry.errorMessage = message;
          (retryable && entry.attempts < this.settings.maxAttempts ? retry : giveUp).push(entry);
        }
      } else {
        results.forEach((result, index) => {
          const entry = batch[index];
          if (entry === undefined) {
            return;
          }
          if (!result.ErrorCode) {
            this.sent += 1;
            this.bytes += entry.bytes;
            this.release(entry);
            this.settle(entry);
          } else {
            entry.errorCode = result.ErrorCode;
            entry.errorMessage = result.ErrorMessage ?? '';
            (entry.attempts < this.settings.maxAttempts ? retry : giveUp).push(entry);
          }
        });
        if (retry.length + giveUp.length > 0) {
          this.logger.debug({ failed: retry.length + giveUp.length, records: batch.length }, 'Kinesis PutRecords entries failed');
        }
      }
    } finally {
      this.inFlight -= 1;
    }
    this.scheduleRetries(retry);
    this.admitWaiters();
    this.pump();
    if (giveUp.length > 0) {
      await this.giveUp(giveUp);
      this.admitWaiters();
      this.pump();
    }
  }

  /** Puts failed records back after their backoff: one timer per attempt count. */
  private scheduleRetries(entries: readonly Entry<R>[]): void {
    const byAttempts = new Map<number, Entry<R>[]>();
    for (const entry of entries) {
      const group = byAttempts.get(entry.attempts);
      if (group === undefined) {
        byAttempts.set(entry.attempts, [entry]);
      } else {
        group.push(entry);
      }
    }
    for (const [attempts, group] of byAttempts) {
      setTimeout(() => {
        this.retried += group.length;
        this.retries.pushAll(group);
        this.pump();
      }, backoffDelay(attempts, this.settings.baseDelayMs, this.settings.maxDelayMs));
    }
  }

  /** Hands records over to `onFailure`; when there is none, or it throws, keeps them for `flush()`. */
  private async giveUp(entries: readonly Entry<R>[]): Promise<void> {
    this.failed += entries.length;
    const failures = entries.map(failureOf);
    this.logger.error(
      { records: entries.length, errorCode: entries[0]?.errorCode, errorMessage: entries[0]?.errorMessage },
      this.onFailure === undefined ? 'Kinesis records given up on, kept for flush()' : 'Kinesis records given up on, handed to onFailure',
    );
    let handlerError: unknown;
    if (this.onFailure !== undefined) {
      try {
        await this.onFailure(failures);
        for (const entry of entries) {
          this.release(entry);
          this.settle(entry);
        }
        return;
      } catch (error) {
        handlerError = error;
        this.logger.error({ err: error, records: entries.length }, 'onFailure threw: Kinesis records kept for flush()');
      }
    }
    this.undelivered.push(...failures);
    this.undeliveredEntries.push(...entries);
    if (handlerError !== undefined) {
      this.undeliveredCauses.push(handlerError);
    }
    for (const entry of entries) {
      this.settle(entry);
    }
  }

  /** Frees the record's room in the buffer. */
  private release(entry: Entry<R>): void {
    this.buffered -= 1;
    this.bufferedBytes -= entry.bytes;
  }

  /** Marks the record delivered or handed over, for flush(). */
  private settle(entry: Entry<R>): void {
    const left = (this.unsettled.get(entry.generation) ?? 1) - 1;
    if (left > 0) {
      this.unsettled.set(entry.generation, left);
      return;
    }
    this.unsettled.delete(entry.generation);
    const oldest = this.unsettled.keys().next();
    const stillOpen = oldest.done === true ? Number.POSITIVE_INFINITY : oldest.value;
    const done = this.flushWaiters.filter((waiter) => waiter.generation < stillOpen);
    if (done.length > 0) {
      this.flushWaiters = this.flushWaiters.filter((waiter) => waiter.generation >= stillOpen);
      done.forEach((waiter) => waiter.resolve());
    }
  }

  /** Resolves once no record of `generation` or older is unsettled. */
  private settled(generation: number): Promise<void> {
    const oldest = this.unsettled.keys().next();
    if (oldest.done === true || oldest.value > generation) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.flushWaiters.push({ generation, resolve }));
  }

  private handOverUndelivered(): void {
    if (this.undelivered.length === 0) {
      return;
    }
    const failures = this.undelivered;
    const entries = this.undeliveredEntries;
    const causes = this.undeliveredCauses;
    this.undelivered = [];
    this.undeliveredEntries = [];
    this.undeliveredCauses = [];
    entries.forEach((entry) => this.release(entry));
    this.admitWaiters();
    this.pump();
    throw undeliveredError(failures, causes);
  }

  private clearLingerTimer(): void {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
  }
}

function undeliveredError<R extends KinesisRecord>(failures: readonly KinesisRecordFailure<R>[], causes: readonly unknown[]): KinesisUndeliveredError<R> {
  const first = failures[0];
  const handler = causes.length > 0 ? ` onFailure threw: ${errorParts(causes[0]).message}.` : ' No onFailure handler was given.';
  return new KinesisUndeliveredError(
    `KinesisProducer: ${failures.length} record(s) could not be delivered (first: ${first?.errorCode}: ${first?.errorMessage}, after ${first?.attempts} attempt(s)).${handler} They are in this error's \`failures\`: store them (a spool, the outbox) and send them again, or give the producer an onFailure that does.`,
    failures,
    causes.length === 0 ? undefined : { cause: causes.length === 1 ? causes[0] : new AggregateError(causes) },
  );
}

function requestEntry<R extends KinesisRecord>(entry: Entry<R>): PutRecordsRequestEntry {
  const { partitionKey, explicitHashKey } = entry.record;
  return explicitHashKey === undefined
    ? { PartitionKey: partitionKey, Data: entry.data }
    : { PartitionKey: partitionKey, Data: entry.data, ExplicitHashKey: explicitHashKey };
}

function failureOf<R extends KinesisRecord>(entry: Entry<R>): KinesisRecordFailure<R> {
  return { record: entry.record, errorCode: entry.errorCode, errorMessage: entry.errorMessage, attempts: entry.attempts };
}

