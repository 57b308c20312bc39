import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { pino, type Logger } from 'pino';

import { LocalCloudError, LocalCloudStartError, LocalCloudValidationError } from '../errors.js';

/** The only address the local servers listen on: they are for this machine. */
export const HOST = '127.0.0.1';

/**
 * The region of the local Kinesis, S3 and DynamoDB. The servers ignore the region requests are signed for;
 * kinesalite and dynalite put the process's `AWS_REGION` (else `us-east-1`) in the ARNs they make.
 */
export const LOCAL_AWS_REGION = 'us-east-1';

/** Checks a `port` option (0 = any free port) and returns it. */
export function checkedPort(caller: string, port: number | undefined): number {
  const value = port ?? 0;
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new LocalCloudValidationError(
      `${caller}: port must be an integer from 0 to 65535, received ${JSON.stringify(value)}. Pass 0 (or leave it out) to take any free port.`,
    );
  }
  return value;
}

/** Checks a `dataDir` option: left out is fine, an empty string is not. `example` is a folder to suggest. */
export function checkDataDir(caller: string, dataDir: string | undefined, example: string, whenLeftOut: string): void {
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir.trim() === '')) {
    throw new LocalCloudValidationError(
      `${caller}: dataDir is ${JSON.stringify(dataDir)}. Pass a folder path (for example \`${example}\`), or leave dataDir out ${whenLeftOut}.`,
    );
  }
}

/** Checks a duration option in milliseconds (0 allowed) and returns it, or the default. */
export function checkedMs(caller: string, name: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (!Number.isInteger(ms) || ms < 0 || ms > 3_600_000) {
    throw new LocalCloudValidationError(
      `${caller}: ${name} must be a whole number of milliseconds from 0 to 3600000, received ${JSON.stringify(ms)}. Use 0 for an instant change (the default).`,
    );
  }
  return ms;
}

/** A temporary folder, named after the service, that the caller owns and removes on stop. */
export function temporaryDataDir(service: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `saas-kit-${service}-`));
}

export function removeDataDir(dataDir: string): Promise<void> {
  return rm(dataDir, { recursive: true, force: true });
}

/**
 * The folders of LevelDB-backed servers started by this process. LevelDB locks its folder, and the servers
 * do not report a locked folder well (kinesalite throws it uncaught, dynalite stops answering), so a second
 * start on a folder in use is refused up front.
 */
const foldersInUse = new Set<string>();

/** Claims `dataDir` for one server of this process; returns the function that releases it. */
export function claimDataDir(caller: string, dataDir: string): () => void {
  const folder = path.resolve(dataDir);
  if (foldersInUse.has(folder)) {
    throw new LocalCloudStartError(
      `${caller}: the folder ${folder} is already used by a running local server of this process. Stop that server first, or pass another dataDir.`,
    );
  }
  foldersInUse.add(folder);
  return () => {
    foldersInUse.delete(folder);
  };
}

/** Listens on 127.0.0.1:`port` and returns the base URL, `http://127.0.0.1:PORT`. */
export async function listenOn(server: Server, port: number, service: string): Promise<string> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new LocalCloudStartError(`${service} could not listen on ${HOST}:${port}: ${messageOf(error)}. Pass another port, or port 0 for any free one.`, {
      cause: error,
    });
  }
  return `http://${HOST}:${(server.address() as AddressInfo).port}`;
}

/**
 * Closes `server` (kinesalite and dynalite close their database in it) and the connections it holds: SDK
 * clients keep theirs alive, and `close()` alone would wait for them to time out.
 */
export function closeServer(server: Server, service: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(new LocalCloudError(`${service} did not stop cleanly: ${error.message}`, { cause: error })) : resolve()));
    server.closeAllConnections();
  });
}

/** `stop()` of a server: runs `stop` once, whatever the number of calls. */
export function once(stop: () => Promise<void>): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= stop();
    return stopped;
  };
}

/** A child of `logger` for one service, at level `warn` (or the parent's when quieter); silent without a logger. */
export function serviceLogger(logger: Logger | undefined, service: string): Logger {
  if (logger === undefined) {
    return pino({ level: 'silent' });
  }
  const level = logger.levelVal >= (logger.levels.values.warn ?? 40) ? logger.level : 'warn';
  return logger.child({ service }, { level });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
