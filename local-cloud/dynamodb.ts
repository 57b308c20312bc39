import type { Server } from 'node:http';
import path from 'node:path';

import type { Logger } from 'pino';

import { LocalCloudStartError } from './errors.js';
import { probeLevelDb } from './private/leveldb.js';
import { requireFromKit } from './private/require.js';
import {
  checkDataDir,
  checkedMs,
  checkedPort,
  claimDataDir,
  closeServer,
  listenOn,
  LOCAL_AWS_REGION,
  messageOf,
  once,
  serviceLogger,
} from './private/server.js';

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

interface DynaliteOptions {
  readonly path?: string;
  readonly createTableMs: number;
  readonly deleteTableMs: number;
  readonly updateTableMs: number;
}

const SERVICE = 'dynalite';

/** Starts dynalite in this process, on 127.0.0.1: in memory, or in a LevelDB folder when `dataDir` is given. */
export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const caller = 'startLocalDynamoDb';
  const port = checkedPort(caller, options.port);
  checkDataDir(caller, options.dataDir, '.data/dynamodb', 'to keep the tables in memory');
  const transitionMs = checkedMs(caller, 'transitionMs', options.transitionMs, 0);
  const logger = serviceLogger(options.logger, SERVICE);
  const dataDir = options.dataDir === undefined ? undefined : path.resolve(options.dataDir);

  const release = dataDir === undefined ? () => undefined : claimDataDir(caller, dataDir);
  try {
    if (dataDir !== undefined) {
      await probeLevelDb(dataDir, 'level', 'dynalite', SERVICE);
    }
    const server = createDynalite({
      ...(dataDir === undefined ? {} : { path: dataDir }),
      createTableMs: transitionMs,
      deleteTableMs: transitionMs,
      updateTableMs: transitionMs,
    });
    let endpoint: string;
    try {
      endpoint = await listenOn(server, port, SERVICE);
    } catch (error) {
      await closeServer(server, SERVICE).catch(() => undefined);
      throw error;
    }
    logger.debug({ endpoint, dataDir }, 'dynalite started');
    return {
      endpoint,
      region: LOCAL_AWS_REGION,
      dataDir,
      stop: once(() => closeServer(server, SERVICE).finally(release)),
    };
  } catch (error) {
    release();
    throw error;
  }
}

function createDynalite(options: DynaliteOptions): Server {
  try {
    const dynalite = requireFromKit('dynalite') as (options: DynaliteOptions) => Server;
    return dynalite(options);
  } catch (error) {
    throw new LocalCloudStartError(`dynalite could not be created: ${messageOf(error)}. Check that the dynalite package is installed (npm ci).`, {
      cause: error,
    });
  }
}
