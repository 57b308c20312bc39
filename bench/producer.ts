import { randomUUID } from 'node:crypto';
import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamCommand, KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { KinesisProducer, createEvent } from '../data-plane/index.js';
import { localKinesisClientConfig, startLocalKinesis } from '../local-cloud/index.js';

export interface ProducerBenchOptions {
  /** Records per run. */
  readonly records: number;
  readonly rounds: number;
  /** Shards of each run's stream. */
  readonly shards: number;
}

interface Run {
  readonly recordsPerSecond: number;
}

/**
 * The Kinesis producer against a raw PutRecords loop on the same local Kinesis (kinesalite, in this
 * process), over the same serialized catalog events. The raw loop is what a hand-written sender does at
 * best: 500-record batches, one call at a time, failed entries resent. The producer runs with one
 * request in flight too: kinesalite shares this process's core, so more requests in flight measure
 * kinesalite's contention, not the producer. Rounds alternate which goes first; each run gets a new stream.
 */
export async function benchProducer(options: ProducerBenchOptions) {
  const kinesis = await startLocalKinesis({ transitionMs: 0, shardLimit: 100 });
  const client = new KinesisClient({ ...localKinesisClientConfig(kinesis), maxAttempts: 1 });
  try {
    const tenants = Array.from({ length: 200 }, () => randomUUID());
    const records = Array.from({ length: options.records }, (_, i) => {
      const tenantId = tenants[i % tenants.length] ?? '';
      const event = createEvent({ type: 'user.login', source: 'bench/producer', tenantId, data: { userId: randomUUID(), sessionId: randomUUID() } });
      return { partitionKey: tenantId, data: JSON.stringify(event) };
    });

    const runs: Record<'producer' | 'raw', Run[]> = { producer: [], raw: [] };
    const ratios: number[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const order = round % 2 === 0 ? (['producer', 'raw'] as const) : (['raw', 'producer'] as const);
      const roundRuns: Partial<Record<'producer' | 'raw', Run>> = {};
      for (const kind of order) {
        const stream = await createStream(client, options.shards);
        const started = performance.now();
        if (kind === 'producer') {
          const producer = new KinesisProducer({ client, streamName: stream, maxConcurrentRequests: 1, lingerMs: 0 });
          for (const record of records) await producer.send(record);
          await producer.close();
          if (producer.stats().sent !== records.length) throw new Error(`producer sent ${producer.stats().sent} of ${records.length}`);
        } else {
          await rawPutRecordsLoop(client, stream, records);
        }
        const run = { recordsPerSecond: Math.round(records.length / ((performance.now() - started) / 1000)) };
        runs[kind].push(run);
        roundRuns[kind] = run;
        await client.send(new DeleteStreamCommand({ StreamName: stream }));
      }
      ratios.push((roundRuns.producer?.recordsPerSecond ?? 0) / (roundRuns.raw?.recordsPerSecond ?? 1));
    }
    return {
      target: 'producer records/s >= 0.9 of a raw PutRecords loop',
      records: options.records,
      rounds: options.rounds,
      shards: options.shards,
      producerRecordsPerSecond: median(runs.producer.map((run) => run.recordsPerSecond)),
      rawRecordsPerSecond: median(runs.raw.map((run) => run.recordsPerSecond)),
      ratio: round3(median(ratios)),
      roundRatios: ratios.map(round3),
      runs,
    };
  } finally {
    client.destroy();
    await kinesis.stop();
  }
}

async function createStream(client: KinesisClient, shards: number): Promise<string> {
  const name = `bench-${randomUUID()}`;
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  while ((await client.send(new DescribeStreamCommand({ StreamName: name }))).StreamDescription?.StreamStatus !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return name;
}

/** The baseline: consecutive 500-record PutRecords calls, resending the entries that failed. */
async function rawPutRecordsLoop(client: KinesisClient, stream: string, records: readonly { partitionKey: string; data: string }[]): Promise<void> {
  const encoder = new TextEncoder();
  for (let start = 0; start < records.length; start += 500) {
    let entries: PutRecordsRequestEntry[] = records.slice(start, start + 500).map((record) => ({ PartitionKey: record.partitionKey, Data: encoder.encode(record.data) }));
    while (entries.length > 0) {
      const response = await client.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
      entries = entries.filter((_, i) => response.Records?.[i]?.ErrorCode !== undefined);
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
