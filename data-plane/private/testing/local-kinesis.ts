// Test support: the local cloud's kinesalite, in memory, with the helpers the producer tests need.
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type KinesisClientConfig,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { localKinesisClientConfig, startLocalKinesis } from '../../../local-cloud/index.js';

export interface StoredRecord extends _Record {
  readonly ShardId: string;
}

export interface TestKinesis {
  readonly endpoint: string;
  /** A new client for it (HTTP/1.1: kinesalite does not speak the SDK's default HTTP/2). */
  client(config?: Partial<KinesisClientConfig>): KinesisClient;
  /** Creates a stream, ACTIVE when this resolves. */
  createStream(name: string, shardCount: number): Promise<void>;
  /** Every record of every shard, read from TRIM_HORIZON to the tip, with the shard it is in. */
  readAll(streamName: string): Promise<StoredRecord[]>;
  stop(): Promise<void>;
}

export async function startTestKinesis(): Promise<TestKinesis> {
  const kinesis = await startLocalKinesis();
  const endpoint = kinesis.endpoint;
  const client = (config: Partial<KinesisClientConfig> = {}): KinesisClient => new KinesisClient({ ...localKinesisClientConfig(kinesis), ...config });
  const admin = client();

  return {
    endpoint,
    client,
    createStream: async (name, shardCount) => {
      await admin.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
    },
    readAll: async (streamName) => {
      const records: StoredRecord[] = [];
      const shards = await admin.send(new ListShardsCommand({ StreamName: streamName }));
      for (const shard of shards.Shards ?? []) {
        const start = await admin.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
        let iterator = start.ShardIterator;
        while (iterator !== undefined) {
          const page = await admin.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          const got = page.Records ?? [];
          records.push(...got.map((record) => ({ ...record, ShardId: shard.ShardId ?? '' })));
          iterator = got.length === 0 && page.MillisBehindLatest === 0 ? undefined : page.NextShardIterator;
        }
      }
      return records;
    },
    stop: async () => {
      admin.destroy();
      await kinesis.stop();
    },
  };
}
