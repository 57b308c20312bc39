/**
 * One batch of one shard, end to end: read, load the tenant-days it touches, apply, then save the
 * changed days, the dead letters and the shard's state. The KCL-style consumer and the Lambda handler
 * both run this; they differ only in who keeps the position in the shard (a lease table, or Lambda).
 */
import { ShardAggregator, type AggregationSettings, type AggregatorStats, type ShardRecord } from './aggregator.js';
import { forEachLimited, type AnalyticsStore } from './store.js';

export interface ShardProcessorProps {
  readonly store: AnalyticsStore;
  readonly streamName: string;
  readonly shardId: string;
  readonly settings: AggregationSettings;
  /**
   * Parents of the shard after a reshard: a child without saved state starts at their latest watermark.
   * @default - none
   */
  readonly parentShardIds?: readonly string[];
  readonly signal?: AbortSignal;
}

/**
 * After a `processBatch` that threw, the processor is ahead of what is saved: drop it and open a new one,
 * which starts again from the saved state (the records in between are replayed, and skipped where saved).
 */
export class ShardProcessor {
  private readonly aggregator: ShardAggregator;
  private readonly props: ShardProcessorProps;

  private constructor(props: ShardProcessorProps, aggregator: ShardAggregator) {
    this.props = props;
    this.aggregator = aggregator;
  }

  /** Opens a shard at its saved state (or empty, with its parents' watermark and recent event ids). */
  public static async open(props: ShardProcessorProps): Promise<ShardProcessor> {
    const state = await props.store.loadShardState(props.streamName, props.shardId, props.signal);
    const aggregator = new ShardAggregator(props.shardId, props.settings, state);
    if (state === undefined) {
      for (const parent of props.parentShardIds ?? []) {
        const parentState = await props.store.loadShardState(props.streamName, parent, props.signal);
        // A parent without a saved state is past the stream's retention: nothing of it to inherit.
        if (parentState !== undefined) aggregator.inheritParent(parentState);
      }
    }
    return new ShardProcessor(props, aggregator);
  }

  public get stats(): Readonly<AggregatorStats> {
    return this.aggregator.stats;
  }

  /** Tenant-days held in memory. */
  public get openDays(): number {
    return this.aggregator.openDays;
  }

  /** Applies records (in shard order) in memory, loading the tenant-days they touch; `save` makes it durable. */
  public async apply(records: readonly ShardRecord[]): Promise<void> {
    const { store, signal } = this.props;
    const pending = this.aggregator.ingest(records);
    await forEachLimited(this.aggregator.missingDays(pending), store.concurrency, async ({ tenantId, dayStartMs }) => {
      const file = await store.loadDay(tenantId, dayStartMs, signal);
      this.aggregator.install(tenantId, dayStartMs, file, store.dayKey(tenantId, dayStartMs));
    });
    this.aggregator.apply(pending);
  }

  /** Saves what was applied: the changed days, the dead letters, then the shard state. When this resolves, the records applied may be checkpointed. */
  public async save(): Promise<void> {
    const { store, signal } = this.props;
    const days = this.aggregator.dirtyDays().map((window) => ({ window, file: window.toFile() }));
    const letters = this.aggregator.takeDeadLetters();
    const writes: (() => Promise<void>)[] = [
      ...days.map(({ window, file }) => async () => {
        await store.saveDay(file, window.dayStartMs);
        window.dirty = false;
      }),
      ...letters.map((letter) => () => store.saveDeadLetter(letter)),
    ];
    // A write once started is not aborted: an S3 PUT lands whole or not at all, and a stop waits for it.
    // A stop (the signal) only keeps new writes from starting.
    await forEachLimited(writes, store.concurrency, (write) => {
      signal?.throwIfAborted();
      return write();
    });
    // Last: the shard state says "everything up to here is saved", so it goes after what it vouches for.
    signal?.throwIfAborted();
    await store.saveShardState(this.props.streamName, this.aggregator.state());
    this.aggregator.dropClosedDays();
  }

  /** `apply` then `save`: one batch, durable when this resolves. */
  public async processBatch(records: readonly ShardRecord[]): Promise<void> {
    await this.apply(records);
    await this.save();
  }
}
