import path from 'node:path';

import type { Logger } from 'pino';

import { startLevelDbServer } from './private/leveldb.js';
import { checkDataDir, checkedMs, checkedPort, LOCAL_AWS_REGION, serviceLogger } from './private/server.js';

export interface LocalDynamoDbOptions {
  /**
   * Folder for dynalite's LevelDB. Reusing it on a later start keeps the tables and their items. Only one
   * server may use a folder at a time.
   * @default - in memory: tables and items end with `stop()`
   */
  readonly dataDir?: string;
  /**
   * TCP port to listen on, on 127.0.0.1.
   * @default 0 (any free port; read the chosen one from `endpoint`)
   */
  readonly port?: number;
  /**
   * How long a table stays CREATING, DELETING or UPDATING (dynalite's `createTableMs`, `deleteTableMs`,
   * `updateTableMs`). Above 0, code that waits for ACTIVE is exercised, but the SDK waiter
   * `waitUntilTableExists` then sleeps its 20-second minimum delay.
   * @default 0 (ACTIVE before the client's next call)
   */
  readonly transitionMs?: number;
  /**
   * Logger; gets a child at level `warn` (or the parent's level when that is quieter). dynalite itself logs nothing.
   * @default - a silent logger
   */
  readonly logger?: Logger;
}

/** A running dynalite, speaking the DynamoDB API (`DynamoDB_20120810`, JSON). */
export interface LocalDynamoDb {
  /** Base URL, `http://127.0.0.1:PORT`: the SDK endpoint (see `localDynamoDbClientConfig`). */
  readonly endpoint: string;
  /** The region to give SDK clients: `us-east-1`. */
  readonly region: string;
  /** The LevelDB folder in use, or `undefined` when the data is in memory. */
  readonly dataDir: string | undefined;
  /** Stops listening, closes open connections and the database (after its pending writes). Safe to call twice. */
  stop(): Promise<void>;
}

const SERVICE = 'dynalite' as const;

/** Starts dynalite in this process, on 127.0.0.1: in memory, or in a LevelDB folder when `dataDir` is given. */
export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const caller = 'startLocalDynamoDb';
  const port = checkedPort(caller, options.port);
  checkDataDir(caller, options.dataDir, '.data/dynamodb', 'to keep the tables in memory');
  const transitionMs = checkedMs(caller, 'transitionMs', options.transitionMs, 0);
  const logger = serviceLogger(options.logger, SERVICE);
  const dataDir = options.dataDir === undefined ? undefined : path.resolve(options.dataDir);

  const { endpoint, stop } = await startLevelDbServer({
    caller,
    service: SERVICE,
    binding: 'level',
    dataDir,
    port,
    logger,
    options: { createTableMs: transitionMs, deleteTableMs: transitionMs, updateTableMs: transitionMs },
  });
  return { endpoint, region: LOCAL_AWS_REGION, dataDir, stop };
}
