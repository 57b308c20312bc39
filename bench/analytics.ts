/**
 * The analytics consumer's aggregator, on one core, with no I/O:
 * - throughput: events/s of `ShardAggregator` (read with the fast path, dedupe, lateness, apply) over an
 *   in-memory batch of serialized catalog events, against a baseline that only decodes and JSON.parses
 *   the same records; rounds alternate, the ratio is the median of the per-round ratios (target >= 0.5);
 * - memory: peak RSS of a fresh process aggregating 1M and 10M generated events (generated on the fly,
 *   not held), serializing the changed days every 100,000 records and closing days as the consumer does; the ratio 10M / 1M shows that memory grows
 *   with tenants and open days, not with events (target <= 1.2).
 * Run as `tsx bench/analytics.ts --memory-child <events>` it is the child of the memory measure.
 */
import { benchProducer, type ProducerBenchOptions } from './producer.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ShardAggregator, syntheticTelemetry, type ShardRecord } from '../data-plane/index.js';

export interface AnalyticsBenchOptions {
  /** The producer against a raw PutRecords loop (bench/producer.ts). */
  readonly producer: ProducerBenchOptions;
  /** Events in the in-memory batch. */
  readonly events: number;
  readonly rounds: number;
  /** Event counts of the memory measure, each in its own process. */
  readonly memoryEvents: readonly number[];
  readonly tenants: number;
}

const SHARD = 'shardId-000000000000';
/** Records per GetRecords call the consumer makes: the aggregator gets them in batches of this size. */
const BATCH = 10_000;
/** Records between two saves in the memory measure (the consumer's `recordsPerSave`, set high for a big backlog). */
const RECORDS_PER_SAVE = 100_000;

function sequenceNumber(index: number): string {
  // The shape of a real one: 56 digits.
  return `4959${String(index).padStart(52, '0')}`;
}

function* records(events: number, tenants: number): Generator<ShardRecord> {
  let index = 0;
  for (const event of syntheticTelemetry({ tenants, seed: 7 })) {
    if (index >= events) return;
    yield { sequenceNumber: sequenceNumber(index), data: Buffer.from(JSON.stringify(event)), partitionKey: event.subject, arrivedAtMs: Date.parse(event.time) };
    index += 1;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle]) : ((sorted[middle - 1]) + (sorted[middle])) / 2;
}

function baseline(batch: readonly ShardRecord[]): number {
  let keys = 0;
  for (const record of batch) {
    const data = record.data;
    const value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Record<string, unknown>;
    // Touch the result so the parse cannot be optimised away.
    if (value.type !== undefined) keys += 1;
  }
  return keys;
}

function aggregate(batch: readonly ShardRecord[]): number {
  const aggregator = new ShardAggregator(SHARD, { allowedLatenessMs: 86_400_000, dedupeCapacity: 20_000 });
  for (let start = 0; start < batch.length; start += BATCH) aggregator.applyFresh(batch.slice(start, start + BATCH));
  return aggregator.stats.applied;
}

function timed(run: () => number, events: number): number {
  const started = process.hrtime.bigint();
  const result = run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result <= 0) throw new Error('the benchmark processed nothing');
  return Math.round(events / seconds);
}

/** Peak RSS of a child aggregating `events` events. */
function memoryRun(events: number, tenants: number): Promise<{ events: number; peakRssBytes: number; openDays: number; applied: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--memory-child', String(events), String(tenants)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as { events: number; peakRssBytes: number; openDays: number; applied: number }) : reject(new Error(`memory child exited with ${String(code)}`))));
  });
}

/** The child: aggregates generated events batch by batch, saving (serializing) dirty days and dropping closed ones. */
function memoryChild(events: number, tenants: number): void {
  const aggregator = new ShardAggregator(SHARD, { allowedLatenessMs: 86_400_000, dedupeCapacity: 20_000 });
  let batch: ShardRecord[] = [];
  let saved = 0;
  let unsaved = 0;
  const save = (): void => {
    for (const day of aggregator.dirtyDays()) {
      saved += JSON.stringify(day.toFile()).length;
      day.dirty = false;
    }
    aggregator.dropClosedDays();
    unsaved = 0;
  };
  for (const record of records(events, tenants)) {
    batch.push(record);
    if (batch.length === BATCH) {
      aggregator.applyFresh(batch);
      unsaved += batch.length;
      batch = [];
      if (unsaved >= RECORDS_PER_SAVE) save();
    }
  }
  aggregator.applyFresh(batch);
  save();
  if (saved === 0) throw new Error('nothing was saved');
  process.stdout.write(JSON.stringify({ events, peakRssBytes: process.resourceUsage().maxRSS * 1024, openDays: aggregator.openDays, applied: aggregator.stats.applied }));
}

export async function benchAnalytics(options: AnalyticsBenchOptions) {
  const batch = [...records(options.events, options.tenants)];
  const bytes = batch.reduce((sum, record) => sum + record.data.byteLength, 0);
  // Warm-up: both paths compiled before anything is measured.
  baseline(batch.slice(0, 20_000));
  aggregate(batch.slice(0, 20_000));
  const runs: { aggregator: number; baseline: number; ratio: number }[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const order = round % 2 === 0 ? (['aggregator', 'baseline'] as const) : (['baseline', 'aggregator'] as const);
    const measured = { aggregator: 0, baseline: 0 };
    for (const kind of order) measured[kind] = timed(() => (kind === 'aggregator' ? aggregate(batch) : baseline(batch)), batch.length);
    runs.push({ ...measured, ratio: Number((measured.aggregator / measured.baseline).toFixed(3)) });
  }
  const ratio = median(runs.map((run) => run.ratio));

  const memory = [];
  for (const events of options.memoryEvents) memory.push(await memoryRun(events, options.tenants));
  const first = memory[0];
  const last = memory[memory.length - 1];
  const memoryRatio = first && last ? Number((last.peakRssBytes / first.peakRssBytes).toFixed(3)) : null;
  const producer = await benchProducer(options.producer);

  return {
    benchmark: 'analytics aggregator: events/s on one core (in memory) and peak RSS by event count',
    aggregator: {
      events: batch.length,
      tenants: options.tenants,
      meanRecordBytes: Math.round(bytes / batch.length),
      eventsPerSecond: median(runs.map((run) => run.aggregator)),
      baselineEventsPerSecond: median(runs.map((run) => run.baseline)),
      baseline: 'utf-8 decode + JSON.parse of the same records, nothing else',
      ratio,
      target: 0.5,
      meetsTarget: ratio >= 0.5,
      runs,
    },
    producer: { ...producer, target: 0.9, meetsTarget: producer.ratio >= 0.9 },
    memory: {
      tenants: options.tenants,
      runs: memory.map((run) => ({ ...run, peakRssMiB: Math.round(run.peakRssBytes / 2 ** 20) })),
      ratio: memoryRatio,
      target: 1.2,
      meetsTarget: memoryRatio !== null && memoryRatio <= 1.2,
    },
  };
}

if (process.argv[2] === '--memory-child') memoryChild(Number(process.argv[3]), Number(process.argv[4]));
