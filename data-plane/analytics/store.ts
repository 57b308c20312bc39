/**
 * Where the aggregates live: one S3 object per tenant per day (`tenant_daily/dt=YYYY-MM-DD/<tenant>.json`,
 * one JSON line, Athena-readable), one per dead letter, and one state object per shard. Each object is
 * written whole by one PUT, so a reader (or a restarted consumer) sees the old version or the new one.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DeadLetter, ShardState } from './aggregator.js';
import { AnalyticsConfigError, AnalyticsStateError } from './errors.js';
import { dayName, type DayFile } from './window.js';

export interface AnalyticsStoreProps {
  readonly s3: S3Client;
  readonly bucket: string;
  /**
   * Prefix of every key, e.g. `analytics/` (end it with `/`).
   * @default '' (the bucket's root)
   */
  readonly prefix?: string;
  /**
   * S3 requests in flight at once when a batch is saved.
   * @default 16
   */
  readonly concurrency?: number;
}

/** What a dead-letter object holds (one JSON line). */
export interface DeadLetterFile {
  readonly reason: DeadLetter['reason'];
  readonly detail: string;
  readonly shard_id: string;
  readonly sequence_number: string;
  readonly partition_key: string;
  readonly arrived_at: string;
  /** The record's data as received, base64. */
  readonly data_base64: string;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
}

/** Runs `task` over `items`, at most `limit` at once; rejects with the first failure. */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class AnalyticsStore {
  public readonly bucket: string;
  public readonly prefix: string;
  public readonly concurrency: number;
  private readonly s3: S3Client;

  public constructor(props: AnalyticsStoreProps) {
    if (typeof props.bucket !== 'string' || props.bucket.length === 0) {
      throw new AnalyticsConfigError(`bucket must name the S3 bucket of the aggregates; received ${JSON.stringify(props.bucket)}.`);
    }
    const prefix = props.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('/')) {
      throw new AnalyticsConfigError(`prefix must be empty or end with "/", e.g. "analytics/"; received ${JSON.stringify(prefix)}.`);
    }
    const concurrency = props.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new AnalyticsConfigError(`concurrency must be a whole number >= 1; received ${String(concurrency)}.`);
    this.s3 = props.s3;
    this.bucket = props.bucket;
    this.prefix = prefix;
    this.concurrency = concurrency;
  }

  public dayKey(tenantId: string, dayStartMs: number): string {
    return `${this.prefix}tenant_daily/dt=${dayName(dayStartMs)}/${tenantId}.json`;
  }

  public deadLetterKey(letter: Pick<DeadLetter, 'arrivedAtMs' | 'shardId' | 'sequenceNumber'>): string {
    return `${this.prefix}dead-letter/dt=${dayName(letter.arrivedAtMs - (letter.arrivedAtMs % 86_400_000))}/${letter.shardId}-${letter.sequenceNumber}.json`;
  }

  public shardStateKey(streamName: string, shardId: string): string {
    return `${this.prefix}consumer-state/${streamName}/${shardId}.json`;
  }

  public async loadDay(tenantId: string, dayStartMs: number, signal?: AbortSignal): Promise<DayFile | undefined> {
    return this.getJson<DayFile>(this.dayKey(tenantId, dayStartMs), signal);
  }

  public async saveDay(file: DayFile, dayStartMs: number): Promise<void> {
    await this.putJson(this.dayKey(file.tenant_id, dayStartMs), file);
  }

  public async saveDeadLetter(letter: DeadLetter): Promise<void> {
    const file: DeadLetterFile = {
      reason: letter.reason,
      detail: letter.detail,
      shard_id: letter.shardId,
      sequence_number: letter.sequenceNumber,
      partition_key: letter.partitionKey,
      arrived_at: new Date(letter.arrivedAtMs).toISOString(),
      data_base64: Buffer.from(letter.data.buffer, letter.data.byteOffset, letter.data.byteLength).toString('base64'),
    };
    await this.putJson(this.deadLetterKey(letter), file);
  }

  public async loadShardState(streamName: string, shardId: string, signal?: AbortSignal): Promise<ShardState | undefined> {
    const key = this.shardStateKey(streamName, shardId);
    const state = await this.getJson<ShardState>(key, signal);
    if (state !== undefined && (state.version !== 1 || state.shardId !== shardId || !Array.isArray(state.recentIds))) {
      throw new AnalyticsStateError(key, `not the state of shard ${shardId} (version 1 expected).`);
    }
    return state;
  }

  public async saveShardState(streamName: string, state: ShardState): Promise<void> {
    await this.putJson(this.shardStateKey(streamName, state.shardId), state);
  }

  private async getJson<T>(key: string, signal?: AbortSignal): Promise<T | undefined> {
    let text: string;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      text = (await response.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new AnalyticsStateError(key, 'not JSON: written by something else, or truncated.', { cause: error });
    }
  }

  /** Never aborted once sent (see ShardProcessor.save). */
  private async putJson(key: string, value: unknown): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: `${JSON.stringify(value)}\n`, ContentType: 'application/json' }));
  }
}
