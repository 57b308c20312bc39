import path from 'node:path';

import type { Logger } from 'pino';

import { LocalCloudValidationError } from './errors.js';
import { startLevelDbServer } from './private/leveldb.js';
import { checkDataDir, checkedMs, checkedPort, LOCAL_AWS_REGION, serviceLogger } from './private/server.js';

export interface LocalKinesisOptions {
  /**
   * Folder for kinesalite's LevelDB. Reusing it on a later start keeps the streams and their records (within
   * their retention). Only one server may use a folder at a time.
   * @default - in memory: streams and records end with `stop()`
   */
  readonly dataDir?: string;
  /**
   * TCP port to listen on, on 127.0.0.1.
   * @default 0 (any free port; read the chosen one from `endpoint`)
   */
  readonly port?: number;
  /**
   * How long a stream stays CREATING, DELETING or UPDATING (kinesalite's `createStreamMs`, `deleteStreamMs`,
   * `updateStreamMs`; AWS takes seconds). Above 0, code that waits for ACTIVE is exercised, but the SDK
   * waiter `waitUntilStreamExists` then sleeps its 10-second minimum delay.
   * @default 0 (ACTIVE before the client's next call)
   */
  readonly transitionMs?: number;
  /**
   * The most shards all streams of this server may have together (kinesalite's `shardLimit`; an AWS
   * account's default is 500 or more by region).
   * @default 1000
   */
  readonly shardLimit?: number;
  /**
   * Logger; gets a child at level `warn` (or the parent's level when that is quieter). kinesalite itself logs nothing.
   * @default - a silent logger
   */
  readonly logger?: Logger;
}

/** A running kinesalite, speaking the Kinesis Data Streams API (JSON and CBOR, HTTP/1.1 only). */
export interface LocalKinesis {
  /** Base URL, `http://127.0.0.1:PORT`: the SDK endpoint (see `localKinesisClientConfig`). */
  readonly endpoint: string;
  /** The region to give SDK clients: `us-east-1`. */
  readonly region: string;
  /** The LevelDB folder in use, or `undefined` when the data is in memory. */
  readonly dataDir: string | undefined;
  /** Stops listening, closes open connections and the database. Safe to call twice. */
  stop(): Promise<void>;
}

const SERVICE = 'kinesalite' as const;

/**
 * Starts kinesalite in this process, on 127.0.0.1: in memory, or in a LevelDB folder when `dataDir` is given.
 *
 * kinesalite speaks HTTP/1.1 only, while the SDK v3 Kinesis client speaks HTTP/2 by default: build clients
 * with `localKinesisClientConfig(kinesis)`, which gives them an HTTP/1.1 handler.
 */
export async function startLocalKinesis(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const caller = 'startLocalKinesis';
  const port = checkedPort(caller, options.port);
  checkDataDir(caller, options.dataDir, '.data/kinesis', 'to keep the streams in memory');
  const transitionMs = checkedMs(caller, 'transitionMs', options.transitionMs, 0);
  const shardLimit = options.shardLimit ?? 1000;
  if (!Number.isInteger(shardLimit) || shardLimit < 1) {
    throw new LocalCloudValidationError(
      `${caller}: shardLimit must be a positive integer, received ${JSON.stringify(shardLimit)}. Leave it out for 1000 shards over all streams.`,
    );
  }
  const logger = serviceLogger(options.logger, SERVICE);
  const dataDir = options.dataDir === undefined ? undefined : path.resolve(options.dataDir);

  const { endpoint, stop } = await startLevelDbServer({
    caller,
    service: SERVICE,
    binding: 'leveldown',
    dataDir,
    port,
    logger,
    options: { createStreamMs: transitionMs, deleteStreamMs: transitionMs, updateStreamMs: transitionMs, shardLimit },
  });
  return { endpoint, region: LOCAL_AWS_REGION, dataDir, stop };
}
