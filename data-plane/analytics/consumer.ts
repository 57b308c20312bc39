/**
 * The real-time analytics consumer: reads every shard of the telemetry stream (parents before children
 * after a reshard), holds one lease per shard in a DynamoDB table, and keeps the per-tenant hour and day
 * aggregates in S3. Checkpoints move only after a batch's effects are saved, and saved tenant-days carry
 * the sequence numbers they contain: records are read at least once and counted exactly once.
 */
import { randomUUID } from 'node:crypto';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type Shard, type _Record } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pino, type Logger } from 'pino';
import { backoffDelay } from '../private/kinesis-limits.js';
import { aggregationSettings, type AggregationOptions, type AggregationSettings, type AggregatorStats, type DeadLetterReason, type ShardRecord } from './aggregator.js';
import { AnalyticsConfigError, LeaseLostError } from './errors.js';
import { LeaseTable, SHARD_END, type Lease } from './leases.js';
import { ShardProcessor } from './shard-processor.js';
import { AnalyticsStore } from './store.js';

export interface AnalyticsConsumerProps {
  readonly kinesis: KinesisClient;
  /** The stream, by name (kinesalite knows streams by name only). */
  readonly streamName: string;
  readonly dynamoDb: DynamoDBDocumentClient;
  /** The lease table: key `shardId` (string); see `ensureLeaseTable`. One table per stream and application. */
  readonly leaseTableName: string;
  readonly s3: S3Client;
  readonly bucket: string;
  /**
   * Prefix of every key the consumer writes, e.g. `analytics/`.
   * @default ''
   */
  readonly prefix?: string;
  /**
   * This worker's name in the lease table.
   * @default - a random UUID
   */
  readonly workerId?: string;
  /**
   * How long a lease lasts without renewal: a killed worker's shards are taken over after this.
   * @default 30_000
   */
  readonly leaseDurationMs?: number;
  /**
   * How often the worker lists the shards and takes free or expired leases (also at once after a shard ends).
   * @default 10_000
   */
  readonly shardSyncIntervalMs?: number;
  /**
   * Wait after an empty GetRecords before the next one.
   * @default 1_000
   */
  readonly idleDelayMs?: number;
  /**
   * Records per GetRecords call, up to Kinesis's 10,000: one batch, saved and checkpointed together.
   * @default 10_000
   */
  readonly maxRecordsPerRead?: number;
  /**
   * Records applied before their effects are saved to S3 and checkpointed: GetRecords pages are applied in
   * memory until this many are pending, or the shard is caught up (an empty page) or ended. Each save rewrites
   * every tenant-day the records touched, so bigger saves mean fewer S3 writes and more records read again after a crash.
   * @default 10_000
   */
  readonly recordsPerSave?: number;
  /**
   * Cap of the backoff when Kinesis throttles reads (full jitter, doubling from 100 ms).
   * @default 5_000
   */
  readonly maxBackoffMs?: number;
  /** Lateness and deduplication; see `AggregationOptions`. @default - one day of lateness, 20,000 ids per shard */
  readonly aggregation?: AggregationOptions;
  /**
   * S3 requests in flight at once per shard when a batch is saved.
   * @default 16
   */
  readonly s3Concurrency?: number;
  /** @default - a silent logger */
  readonly logger?: Logger;
  /** Clock of the leases. @default Date.now */
  readonly now?: () => number;
}

export interface AnalyticsConsumerStats extends AggregatorStats {
  /** Batches saved and checkpointed. */
  batches: number;
  /** GetRecords calls Kinesis throttled. */
  throttled: number;
  /** Shards read to their end (closed by a reshard). */
  shardsEnded: number;
  /** Shards this worker reads now. */
  shardsHeld: number;
  /** Tenant-days in memory now. */
  openDays: number;
}

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException', 'KMSThrottlingException']);

function positive(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new AnalyticsConfigError(`${name} must be a whole number >= ${min}; received ${String(value)}.`);
  return value;
}

function errorName(error: unknown): string {
  return (error as { name?: unknown } | null)?.name?.toString() ?? '';
}

function toShardRecord(record: _Record): ShardRecord {
  return {
    sequenceNumber: record.SequenceNumber ?? '',
    data: record.Data ?? new Uint8Array(0),
    partitionKey: record.PartitionKey ?? '',
    // Kinesis always sets it; the dead-letter key needs a value that is the same on every replay.
    arrivedAtMs: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
  };
}

function addStats(totals: AggregatorStats, stats: Readonly<AggregatorStats>): void {
  totals.records += stats.records;
  totals.applied += stats.applied;
  totals.replayed += stats.replayed;
  totals.duplicates += stats.duplicates;
  for (const [reason, count] of Object.entries(stats.deadLetters) as [DeadLetterReason, number][]) totals.deadLetters[reason] = (totals.deadLetters[reason] ?? 0) + count;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class AnalyticsConsumer {
  public readonly workerId: string;
  private readonly props: AnalyticsConsumerProps;
  private readonly settings: AggregationSettings;
  private readonly leases: LeaseTable;
  private readonly store: AnalyticsStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly leaseDurationMs: number;
  private readonly shardSyncIntervalMs: number;
  private readonly idleDelayMs: number;
  private readonly maxRecordsPerRead: number;
  private readonly maxBackoffMs: number;
  private readonly recordsPerSave: number;

  /** Aborted by `kill()`: every request in flight is dropped, nothing more is written. */
  private readonly killSwitch = new AbortController();
  /** Aborted by `stop()` and `kill()`: ends waits. */
  private readonly stopSwitch = new AbortController();
  private wake: AbortController = new AbortController();
  private readonly workers = new Map<string, { readonly processor: { current: ShardProcessor | undefined }; readonly done: Promise<void> }>();
  /** Processors of running workers, and the counts of the ones that ended. */
  private readonly processors = new Set<ShardProcessor>();
  private readonly ended: AggregatorStats = { records: 0, applied: 0, replayed: 0, duplicates: 0, deadLetters: {} };
  private loop: Promise<void> | undefined;
  private readonly counters = { batches: 0, throttled: 0, shardsEnded: 0 };

  public constructor(props: AnalyticsConsumerProps) {
    if (typeof props.streamName !== 'string' || props.streamName.length === 0) throw new AnalyticsConfigError(`streamName must name the stream; received ${JSON.stringify(props.streamName)}.`);
    if (typeof props.leaseTableName !== 'string' || props.leaseTableName.length === 0) {
      throw new AnalyticsConfigError(`leaseTableName must name the DynamoDB lease table; received ${JSON.stringify(props.leaseTableName)}.`);
    }
    this.props = props;
    this.workerId = props.workerId ?? randomUUID();
    this.settings = aggregationSettings(props.aggregation);
    this.now = props.now ?? Date.now;
    this.leases = new LeaseTable({ client: props.dynamoDb, tableName: props.leaseTableName, now: this.now });
    this.store = new AnalyticsStore({ s3: props.s3, bucket: props.bucket, ...(props.prefix === undefined ? {} : { prefix: props.prefix }), ...(props.s3Concurrency === undefined ? {} : { concurrency: props.s3Concurrency }) });
    this.logger = props.logger ?? pino({ level: 'silent' });
    this.leaseDurationMs = positive('leaseDurationMs', props.leaseDurationMs ?? 30_000, 100);
    this.shardSyncIntervalMs = positive('shardSyncIntervalMs', props.shardSyncIntervalMs ?? 10_000, 1);
    this.idleDelayMs = positive('idleDelayMs', props.idleDelayMs ?? 1_000, 0);
    this.maxRecordsPerRead = positive('maxRecordsPerRead', props.maxRecordsPerRead ?? 10_000, 1);
    if (this.maxRecordsPerRead > 10_000) throw new AnalyticsConfigError(`maxRecordsPerRead must be at most 10000 (Kinesis's GetRecords limit); received ${this.maxRecordsPerRead}.`);
    this.maxBackoffMs = positive('maxBackoffMs', props.maxBackoffMs ?? 5_000, 1);
    this.recordsPerSave = positive('recordsPerSave', props.recordsPerSave ?? 10_000, 1);
  }

  /** Starts reading; returns at once. */
  public start(): void {
    if (this.loop !== undefined) return;
    this.loop = this.syncLoop();
  }

  /** Finishes the batches in progress (saved and checkpointed), gives the leases up, and stops. */
  public async stop(): Promise<void> {
    this.stopSwitch.abort();
    this.wake.abort();
    await this.settle();
  }

  /**
   * Stops as a crash would: reads in flight are abandoned, S3 writes in flight land (a PUT is whole or
   * nothing, as in a crash), nothing more is saved or checkpointed, leases stay held until they expire. For tests of recovery, and for a process that must go now.
   */
  public async kill(): Promise<void> {
    this.killSwitch.abort();
    this.stopSwitch.abort();
    this.wake.abort();
    await this.settle();
  }

  public get stats(): AnalyticsConsumerStats {
    const totals: AnalyticsConsumerStats = { records: 0, applied: 0, replayed: 0, duplicates: 0, deadLetters: {}, ...this.counters, shardsHeld: this.workers.size, openDays: 0 };
    for (const stats of [this.ended, ...[...this.processors].map((processor) => processor.stats)]) addStats(totals, stats);
    for (const worker of this.workers.values()) totals.openDays += worker.processor.current?.openDays ?? 0;
    return totals;
  }

  private async settle(): Promise<void> {
    await this.loop;
    await Promise.all([...this.workers.values()].map((worker) => worker.done));
  }

  private get stopping(): boolean {
    return this.stopSwitch.signal.aborted;
  }

  private async syncLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.syncShards();
      } catch (error) {
        if (this.killSwitch.signal.aborted) return;
        this.logger.warn({ err: error }, 'analytics consumer: listing shards or taking leases failed; retrying at the next sync');
      }
      this.wake = new AbortController();
      await sleep(this.shardSyncIntervalMs, AbortSignal.any([this.wake.signal, this.stopSwitch.signal]));
    }
  }

  private async listShards(): Promise<Shard[]> {
    const signal = this.killSwitch.signal;
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.props.kinesis.send(
        new ListShardsCommand(nextToken === undefined ? { StreamName: this.props.streamName } : { NextToken: nextToken }),
        { abortSignal: signal },
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return shards;
  }

  /** Adds leases for new shards and takes every free lease whose parents are done. */
  private async syncShards(): Promise<void> {
    const signal = this.killSwitch.signal;
    for (const shard of await this.listShards()) {
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined);
      await this.leases.ensure(shard.ShardId ?? '', parents, signal);
    }
    const leases = await this.leases.list(signal);
    const byShard = new Map(leases.map((lease) => [lease.shardId, lease]));
    for (const lease of leases) {
      if (this.stopping) return;
      if (this.workers.has(lease.shardId) || lease.checkpoint === SHARD_END) continue;
      // Parents first: a child's tenants were the parent's, and their earlier events are in the parent.
      // A parent with no lease is past the stream's retention: nothing of it is left to read.
      if (lease.parentShardIds.some((parent) => byShard.has(parent) && byShard.get(parent)?.checkpoint !== SHARD_END)) continue;
      if (lease.owner !== undefined && lease.owner !== this.workerId && lease.leaseExpiresAt > this.now()) continue;
      if (!(await this.leases.acquire(lease.shardId, this.workerId, this.leaseDurationMs, signal))) continue;
      this.logger.info({ shardId: lease.shardId, checkpoint: lease.checkpoint, previousOwner: lease.owner }, 'analytics consumer: took the lease of a shard');
      const processor = { current: undefined as ShardProcessor | undefined };
      const done = this.readShard(lease, processor).finally(() => {
        this.workers.delete(lease.shardId);
        if (processor.current !== undefined) {
          addStats(this.ended, processor.current.stats);
          this.processors.delete(processor.current);
        }
      });
      this.workers.set(lease.shardId, { processor, done });
    }
  }

  private async iterator(shardId: string, checkpoint: string | undefined): Promise<string | undefined> {
    const response = await this.props.kinesis.send(
      new GetShardIteratorCommand(
        checkpoint === undefined
          ? { StreamName: this.props.streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }
          : { StreamName: this.props.streamName, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint },
      ),
      { abortSignal: this.killSwitch.signal },
    );
    return response.ShardIterator;
  }

  private async readShard(lease: Lease, holder: { current: ShardProcessor | undefined }): Promise<void> {
    const { shardId } = lease;
    const signal = this.killSwitch.signal;
    const killed = (): boolean => signal.aborted;
    let checkpoint = lease.checkpoint;
    try {
      const processor = await ShardProcessor.open({ store: this.store, streamName: this.props.streamName, shardId, settings: this.settings, parentShardIds: lease.parentShardIds, signal });
      holder.current = processor;
      this.processors.add(processor);
      let iterator = await this.iterator(shardId, checkpoint);
      let throttledAttempts = 0;
      let renewedAt = this.now();
      /** Records applied in memory but not saved yet, and the last of them. */
      let unsaved = 0;
      let lastRead: string | undefined;
      while (!this.stopping && iterator !== undefined) {
        let page;
        try {
          page = await this.props.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.maxRecordsPerRead }), { abortSignal: signal });
          throttledAttempts = 0;
        } catch (error) {
          if (killed()) return;
          if (THROTTLING.has(errorName(error))) {
            this.counters.throttled += 1;
            throttledAttempts += 1;
            await sleep(backoffDelay(throttledAttempts, 100, this.maxBackoffMs), this.stopSwitch.signal);
            continue;
          }
          if (errorName(error) === 'ExpiredIteratorException') {
            iterator = await this.iterator(shardId, checkpoint);
            continue;
          }
          throw error;
        }
        const records = (page.Records ?? []).map(toShardRecord);
        if (records.length > 0) {
          // Still ours? Checked before reading on, so a worker whose lease lapsed stops before it overwrites the new owner's files.
          if (unsaved === 0) await this.leases.renew(shardId, this.workerId, this.leaseDurationMs, signal);
          await processor.apply(records);
          unsaved += records.length;
          lastRead = records[records.length - 1]?.sequenceNumber;
        }
        iterator = page.NextShardIterator;
        if (unsaved > 0 && (unsaved >= this.recordsPerSave || records.length === 0 || iterator === undefined)) {
          await processor.save();
          if (killed()) return;
          checkpoint = lastRead;
          await this.leases.checkpoint(shardId, this.workerId, checkpoint ?? '', this.leaseDurationMs, signal);
          unsaved = 0;
          renewedAt = this.now();
          this.counters.batches += 1;
        }
        if (this.now() - renewedAt > this.leaseDurationMs / 3) {
          await this.leases.renew(shardId, this.workerId, this.leaseDurationMs, signal);
          renewedAt = this.now();
        }
        if (iterator === undefined) {
          // The shard was closed by a reshard and is read to its end: its children may start.
          await this.leases.checkpoint(shardId, this.workerId, SHARD_END, this.leaseDurationMs, signal);
          this.counters.shardsEnded += 1;
          this.logger.info({ shardId }, 'analytics consumer: shard read to its end');
          this.wake.abort();
          return;
        }
        if (records.length === 0) await sleep(this.idleDelayMs, this.stopSwitch.signal);
      }
      if (killed()) return;
      if (unsaved > 0) {
        await processor.save();
        await this.leases.checkpoint(shardId, this.workerId, lastRead ?? '', this.leaseDurationMs, signal);
      }
      await this.leases.release(shardId, this.workerId, signal);
    } catch (error) {
      if (killed()) return;
      if (error instanceof LeaseLostError) {
        this.logger.warn({ shardId }, 'analytics consumer: lost the lease of a shard; another worker reads it now');
        return;
      }
      // The lease stays ours; the next sync takes it up again from the checkpoint, with a fresh processor.
      this.logger.error({ err: error, shardId }, 'analytics consumer: reading a shard failed; it resumes from its checkpoint');
    }
  }
}
