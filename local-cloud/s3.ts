import { mkdir } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import path from 'node:path';

import type { Logger } from 'pino';

import { LocalCloudStartError } from './errors.js';
import { requireFromKit } from './private/require.js';
import {
  checkDataDir,
  checkedPort,
  claimDataDir,
  closeServer,
  listenOn,
  LOCAL_AWS_REGION,
  messageOf,
  once,
  removeDataDir,
  serviceLogger,
  temporaryDataDir,
} from './private/server.js';

export interface LocalS3Options {
  /**
   * Folder for s3rver's files: one folder per bucket, each object as `<key>._S3rver_object` with its
   * metadata beside it. Reusing the folder keeps buckets and objects. Only one server may use a folder at a time.
   * @default - a fresh temporary folder, removed on stop
   */
  readonly dataDir?: string;
  /**
   * TCP port to listen on, on 127.0.0.1.
   * @default 0 (any free port; read the chosen one from `endpoint`)
   */
  readonly port?: number;
  /**
   * Logger for requests s3rver fails: server errors at `warn`, client errors (NoSuchKey, ...) at `debug`. It
   * gets a child at level `warn` (or the parent's level when that is quieter).
   * @default - a silent logger
   */
  readonly logger?: Logger;
}

/** A running s3rver, speaking the S3 REST API (path-style addressing). */
export interface LocalS3 {
  /** Base URL, `http://127.0.0.1:PORT`: the SDK endpoint (see `localS3ClientConfig`: path style, s3rver's key). */
  readonly endpoint: string;
  /** The region to give SDK clients: `us-east-1`. */
  readonly region: string;
  /** The data folder in use (the temporary one when none was given). */
  readonly dataDir: string;
  /** Stops listening, closes open connections, and removes the data folder when it was a temporary one. Safe to call twice. */
  stop(): Promise<void>;
}

/** The part of s3rver (a Koa application) used here. */
interface S3rverApp {
  callback(): RequestListener;
  on(event: 'error', listener: (error: Error & { status?: number; code?: string }) => void): void;
}

interface S3rverOptions {
  readonly directory: string;
  readonly silent: boolean;
  readonly vhostBuckets: boolean;
}

const SERVICE = 's3rver';

/**
 * Starts s3rver in this process, on 127.0.0.1, with its files in `options.dataDir` (s3rver has no in-memory
 * store: without a folder, a temporary one is used and removed on stop).
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const caller = 'startLocalS3';
  const port = checkedPort(caller, options.port);
  checkDataDir(caller, options.dataDir, '.data/s3', 'for a temporary folder');
  const logger = serviceLogger(options.logger, SERVICE);

  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir === undefined ? await temporaryDataDir('s3') : path.resolve(options.dataDir);
  let release: () => void = () => undefined;
  try {
    release = claimDataDir(caller, dataDir);
    try {
      await mkdir(dataDir, { recursive: true });
    } catch (error) {
      throw new LocalCloudStartError(`s3rver could not create its folder ${dataDir}: ${messageOf(error)}. Pass a writable dataDir.`, { cause: error });
    }
    const app = createS3rver({ directory: dataDir, silent: true, vhostBuckets: false });
    app.on('error', (error) => {
      const status = error.status ?? 500;
      if (status >= 500) {
        logger.warn({ err: error }, 's3rver failed a request');
      } else {
        logger.debug({ code: error.code, status }, 's3rver refused a request');
      }
    });
    const server = createServer(app.callback());
    const endpoint = await listenOn(server, port, SERVICE);
    logger.debug({ endpoint, dataDir }, 's3rver started');
    return {
      endpoint,
      region: LOCAL_AWS_REGION,
      dataDir,
      stop: once(async () => {
        try {
          await closeServer(server, SERVICE);
        } finally {
          release();
          if (ownsDataDir) {
            await removeDataDir(dataDir);
          }
        }
      }),
    };
  } catch (error) {
    release();
    if (ownsDataDir) {
      await removeDataDir(dataDir);
    }
    throw error;
  }
}

function createS3rver(options: S3rverOptions): S3rverApp {
  try {
    const S3rver = requireFromKit('s3rver') as new (options: S3rverOptions) => S3rverApp;
    return new S3rver(options);
  } catch (error) {
    throw new LocalCloudStartError(`s3rver could not be created: ${messageOf(error)}. Check that the s3rver package is installed (npm ci).`, {
      cause: error,
    });
  }
}
