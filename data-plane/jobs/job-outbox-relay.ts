import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pino, type Logger } from 'pino';
import { KinesisProducer, type KinesisRecord } from '../kinesis-producer.js';
import { JobStoreValidationError } from './errors.js';
import type { OutboxEntry } from './expressions.js';
import { JOBS_TABLE, OUTBOX_SHARDS } from './table.js';

export interface JobOutboxRelayProps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  /**
   * Items read per outbox shard per pass.
   * @default 100
   */
  readonly itemsPerShard?: number;
  /**
   * Pause between passes when the last pass found nothing (or could not deliver), in milliseconds.
   * @default 1000
   */
  readonly idleMs?: number;
  /**
   * PutRecords attempts per event within one pass; an event still undelivered stays in the outbox for the next pass.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Backoff of the producer's retries within a pass (doubling, full jitter, capped at 20x), in milliseconds.
   * @default 100
   */
  readonly baseDelayMs?: number;
  /** @default - a silent logger */
  readonly logger?: Logger;
}

/** What one pass did. */
export interface JobOutboxPass {
  /** Events read from the outbox. */
  readonly pending: number;
  /** Events Kinesis accepted and the outbox let go of. */
  readonly delivered: number;
  /** Events Kinesis did not accept: they stay for the next pass. */
  readonly failed: number;
}

export interface JobOutboxRelayStats {
  readonly passes: number;
  readonly delivered: number;
  readonly failed: number;
}

interface OutboxRecord extends KinesisRecord {
  readonly eventId: string;
  readonly pk: string;
  readonly sk: string;
}

interface PendingItem {
  readonly pk: string;
  readonly sk: string;
  readonly outbox: Readonly<Record<string, OutboxEntry>>;
}

/**
 * Moves the events waiting in the table's item outboxes to Kinesis. A pass reads the items of every
 * outbox shard (oldest first), sends their events through a `KinesisProducer` (partition key: the tenant),
 * and removes from each item only the events Kinesis accepted; the others stay for the next pass. An
 * event leaves the outbox only after Kinesis has it: none is lost. A crash (or a second relay) between
 * the send and the removal sends an event again, with the same id: consumers count it once.
 */
export class JobOutboxRelay {
  private readonly props: JobOutboxRelayProps;
  private readonly logger: Logger;
  private readonly itemsPerShard: number;
  private readonly idleMs: number;
  private running: Promise<void> | undefined;
  private previous: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private wake: (() => void) | undefined;
  private passes = 0;
  private delivered = 0;
  private failed = 0;

  public constructor(props: JobOutboxRelayProps) {
    this.itemsPerShard = props.itemsPerShard ?? 100;
    this.idleMs = props.idleMs ?? 1000;
    if (!Number.isInteger(this.itemsPerShard) || this.itemsPerShard < 1 || this.itemsPerShard > 1000) {
      throw new JobStoreValidationError(`JobOutboxRelay: itemsPerShard must be an integer from 1 to 1000; received ${JSON.stringify(props.itemsPerShard)}.`);
    }
    if (!Number.isInteger(this.idleMs) || this.idleMs < 0) {
      throw new JobStoreValidationError(`JobOutboxRelay: idleMs must be a non-negative integer; received ${JSON.stringify(props.idleMs)}.`);
    }
    this.props = props;
    this.logger = props.logger ?? pino({ level: 'silent' });
  }

  /** One pass over every outbox shard; a call during a pass runs after it (two passes at once would send events twice). */
  public runOnce(): Promise<JobOutboxPass> {
    const pass = this.previous.then(() => this.pass());
    this.previous = pass.catch(() => undefined);
    return pass;
  }

  private async pass(): Promise<JobOutboxPass> {
    const items = (await Promise.all(Array.from({ length: OUTBOX_SHARDS }, (_, shard) => this.pendingItems(shard)))).flat();
    const records: OutboxRecord[] = items
      .flatMap((item) => Object.entries(item.outbox).map(([eventId, entry]) => ({ eventId, entry, pk: item.pk, sk: item.sk })))
      // Oldest first; the events of one item (a job) by their sequence.
      .sort((a, b) => (a.entry.time < b.entry.time ? -1 : a.entry.time > b.entry.time ? 1 : a.entry.seq - b.entry.seq))
      .map(({ eventId, entry, pk, sk }) => ({ partitionKey: entry.partitionKey, data: entry.event, eventId, pk, sk }));
    this.passes += 1;
    if (records.length === 0) return { pending: 0, delivered: 0, failed: 0 };

    const undelivered = new Set<OutboxRecord>();
    const producer = new KinesisProducer<OutboxRecord>({
      client: this.props.kinesis,
      streamName: this.props.streamName,
      lingerMs: 0,
      maxAttempts: this.props.maxAttempts ?? 3,
      baseDelayMs: this.props.baseDelayMs ?? 100,
      maxDelayMs: (this.props.baseDelayMs ?? 100) * 20,
      logger: this.logger,
      onFailure: (failures) => {
        for (const failure of failures) undelivered.add(failure.record);
        this.logger.warn({ events: failures.length, errorCode: failures[0]?.errorCode }, 'outbox events not accepted by Kinesis; they stay for the next pass');
      },
    });
    for (const record of records) await producer.send(record);
    await producer.close();

    const accepted = new Map<string, { pk: string; sk: string; eventIds: string[] }>();
    for (const record of records) {
      if (undelivered.has(record)) continue;
      const itemKey = `${record.pk}\u0000${record.sk}`;
      const group = accepted.get(itemKey) ?? { pk: record.pk, sk: record.sk, eventIds: [] };
      group.eventIds.push(record.eventId);
      accepted.set(itemKey, group);
    }
    for (const group of accepted.values()) await this.acknowledge(group.pk, group.sk, group.eventIds);
    const pass = { pending: records.length, delivered: records.length - undelivered.size, failed: undelivered.size };
    this.delivered += pass.delivered;
    this.failed += pass.failed;
    return pass;
  }

  /** Runs passes until `stop()`: at once while there is work, after `idleMs` when there is none. */
  public start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** Ends the loop after the pass in progress. */
  public async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  public stats(): JobOutboxRelayStats {
    return { passes: this.passes, delivered: this.delivered, failed: this.failed };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let idle = true;
      try {
        const pass = await this.runOnce();
        idle = pass.pending === 0 || pass.delivered === 0;
      } catch (error) {
        this.logger.error({ err: error }, 'outbox relay pass failed; retrying after the idle pause');
      }
      if (idle && !this.stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.idleMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private async pendingItems(shard: number): Promise<PendingItem[]> {
    const { outboxIndex } = JOBS_TABLE;
    const result = await this.props.client.send(
      new QueryCommand({
        TableName: this.props.tableName,
        IndexName: outboxIndex.name,
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': outboxIndex.partitionKey },
        ExpressionAttributeValues: { ':s': `OUTBOX#${shard}` },
        Limit: this.itemsPerShard,
      }),
    );
    return (result.Items ?? []).map((item) => ({ pk: item.pk as string, sk: item.sk as string, outbox: (item.outbox ?? {}) as Record<string, OutboxEntry> }));
  }

  /** Removes delivered events from an item; an item with none left leaves the outbox index. */
  private async acknowledge(pk: string, sk: string, eventIds: readonly string[]): Promise<void> {
    const names: Record<string, string> = { '#o': 'outbox', '#pk': 'pk' };
    eventIds.forEach((id, index) => (names[`#e${index}`] = id));
    let remaining: Record<string, OutboxEntry>;
    try {
      const result = await this.props.client.send(
        new UpdateCommand({
          TableName: this.props.tableName,
          Key: { pk, sk },
          UpdateExpression: `REMOVE ${eventIds.map((_, index) => `#o.#e${index}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ReturnValues: 'ALL_NEW',
        }),
      );
      remaining = (result.Attributes?.outbox ?? {}) as Record<string, OutboxEntry>;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
    const left = Object.values(remaining);
    try {
      if (left.length === 0) {
        // Leave the index only if no event arrived in between (the writer sets the index keys again with it).
        await this.props.client.send(
          new UpdateCommand({
            TableName: this.props.tableName,
            Key: { pk, sk },
            UpdateExpression: 'REMOVE #shard, #since',
            ConditionExpression: 'attribute_exists(#pk) AND size(#o) = :zero',
            ExpressionAttributeNames: { '#shard': JOBS_TABLE.outboxIndex.partitionKey, '#since': JOBS_TABLE.outboxIndex.sortKey, '#o': 'outbox', '#pk': 'pk' },
            ExpressionAttributeValues: { ':zero': 0 },
          }),
        );
      } else {
        const oldest = left.reduce((min, entry) => (entry.time < min ? entry.time : min), left[0]?.time);
        await this.props.client.send(
          new UpdateCommand({
            TableName: this.props.tableName,
            Key: { pk, sk },
            UpdateExpression: 'SET #since = :since',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#since': JOBS_TABLE.outboxIndex.sortKey, '#pk': 'pk' },
            ExpressionAttributeValues: { ':since': oldest },
          }),
        );
      }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
