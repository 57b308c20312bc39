import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { pino, type Logger } from 'pino';
import { KinesisProducer, type KinesisRecord, type KinesisRecordFailure } from '../../data-plane/index.js';
import type { Database } from '../db/database.js';
import { ControlPlaneError } from '../errors.js';

/** A Kinesis record that remembers the outbox row it came from. */
interface OutboxRecord extends KinesisRecord {
  readonly outboxId: string;
}

export interface OutboxRelayProps {
  readonly db: Database;
  /** The client for the central stream; the relay sends with its own producer on it. */
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /**
   * Outbox rows claimed per round, oldest first.
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * Wait between rounds when the outbox is empty.
   * @default 250
   */
  readonly idleDelayMs?: number;
  /**
   * Wait after a round in which some rows could not be sent (the stream is down or throttled); they stay
   * in the outbox and go in a later round.
   * @default 2000
   */
  readonly failureDelayMs?: number;
  /**
   * PutRecords attempts per record within a round, before the row is left for the next round.
   * @default 3
   */
  readonly maxAttempts?: number;
  /** @default - a silent logger */
  readonly logger?: Logger;
}

export interface RelayRound {
  /** Rows put on the stream and marked published. */
  readonly published: number;
  /** Rows the stream did not take this round; they stay pending. */
  readonly failed: number;
}

/** The relay was configured wrongly. */
export class OutboxRelayError extends ControlPlaneError {}

/**
 * Moves the Tenant Manager's outbox to Kinesis: at least once, never dropped.
 *
 * Each round claims the oldest pending rows with `FOR UPDATE SKIP LOCKED` (so several relays share the
 * work without sending a row twice at the same time), puts them on the stream, and marks published, in
 * the same transaction, exactly the rows Kinesis accepted. A row Kinesis refused stays pending for a
 * later round. A relay that dies after Kinesis accepted a row but before the commit sends that row again:
 * the event keeps its id, and the analytics consumer dedupes by it.
 */
export class OutboxRelay {
  private readonly producer: KinesisProducer<OutboxRecord>;
  private readonly failedInRound = new Set<string>();
  private readonly logger: Logger;
  private readonly batchSize: number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(private readonly props: OutboxRelayProps) {
    this.batchSize = props.batchSize ?? 500;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new OutboxRelayError(`batchSize must be an integer from 1 to 10000; received ${String(props.batchSize)}.`);
    }
    this.logger = props.logger ?? pino({ level: 'silent' });
    this.producer = new KinesisProducer<OutboxRecord>({
      client: props.kinesis,
      streamName: props.streamName,
      maxAttempts: props.maxAttempts ?? 3,
      lingerMs: 0,
      logger: this.logger,
      onFailure: (failures: readonly KinesisRecordFailure<OutboxRecord>[]) => {
        for (const failure of failures) this.failedInRound.add(failure.record.outboxId);
      },
    });
  }

  /** One round: claim, send, mark. Rounds of one relay never overlap. */
  async relayOnce(): Promise<RelayRound> {
    return this.props.db.asPlatform(async (trx) => {
      // bigint ids come back as strings from pg; keep them as strings end to end.
      const rows = (await trx('outbox')
        .select(trx.raw('id::text as id'), 'tenant_id', 'event')
        .whereNull('published_at')
        .orderBy('id')
        .limit(this.batchSize)
        .forUpdate()
        .skipLocked()) as { id: string; tenant_id: string; event: unknown }[];
      if (rows.length === 0) return { published: 0, failed: 0 };

      this.failedInRound.clear();
      for (const row of rows) {
        const event = typeof row.event === 'string' ? row.event : JSON.stringify(row.event);
        await this.producer.send({ partitionKey: row.tenant_id, data: event, outboxId: row.id });
      }
      await this.producer.flush();

      const published = rows.map((row) => row.id).filter((id) => !this.failedInRound.has(id));
      if (published.length > 0) await trx('outbox').whereIn('id', published).update({ published_at: trx.fn.now() });
      const round = { published: published.length, failed: rows.length - published.length };
      if (round.failed > 0) this.logger.warn(round, 'outbox relay: some events stay pending; the stream did not take them');
      else this.logger.debug(round, 'outbox relay round');
      return round;
    });
  }

  /** Relays in the background until `stop()`. A failed round is logged and retried after `failureDelayMs`. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Finishes the round in progress, then stops; the producer is closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await this.producer.close();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let delay: number;
      try {
        const round = await this.relayOnce();
        delay = round.failed > 0 ? (this.props.failureDelayMs ?? 2000) : round.published === this.batchSize ? 0 : (this.props.idleDelayMs ?? 250);
      } catch (error) {
        this.logger.error({ err: error }, 'outbox relay round failed; the events stay pending');
        delay = this.props.failureDelayMs ?? 2000;
      }
      if (delay > 0 && !this.stopping) await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
