import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';

import type { Logger } from 'pino';

import { LocalCloudStartError } from '../errors.js';
import { requireFrom, requireFromKit } from './require.js';
import { claimDataDir, closeServer, listenOn, messageOf, once } from './server.js';

interface LevelDownDb {
  open(callback: (error?: Error | null) => void): void;
  close(callback: (error?: Error | null) => void): void;
}

interface ClassicLevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The LevelDB binding a server opens its folder with: kinesalite uses `leveldown`, dynalite `level`
 * (classic-level). Each bundles its own LevelDB, whose lock table is per copy, so the probe must use the
 * server's own.
 */
export type LevelDbBinding = 'leveldown' | 'level';

/**
 * Opens and closes the LevelDB in `folder` (creating it when missing) with the server's own binding, so
 * that a folder another process holds, or a damaged one, fails here with a clear error. The servers
 * themselves report neither well: kinesalite throws the lock error uncaught, dynalite stops answering.
 */
export async function probeLevelDb(folder: string, binding: LevelDbBinding, owner: string, service: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
    if (binding === 'leveldown') {
      const leveldown = requireFrom(owner)('leveldown') as (location: string) => LevelDownDb;
      const db = leveldown(folder);
      await new Promise<void>((resolve, reject) => db.open((error) => (error ? reject(error) : resolve())));
      await new Promise<void>((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
    } else {
      const { Level } = requireFrom(owner)('level') as { Level: new (location: string) => ClassicLevelDb };
      const db = new Level(folder);
      await db.open();
      await db.close();
    }
  } catch (error) {
    const locked = /\block\b/i.test(messageOf(error));
    const hint = locked
      ? 'Another process (or a server that was not stopped) holds that folder: stop it, or pass another dataDir.'
      : 'Check that the folder is writable and holds that server\'s LevelDB files only, or pass another dataDir.';
    throw new LocalCloudStartError(`${service} could not open its data in ${folder}: ${messageOf(error)}. ${hint}`, { cause: error });
  }
}

export interface LevelDbServerSpec {
  /** The public function starting it, for error messages. */
  readonly caller: string;
  /** The npm package that is the server: kinesalite or dynalite. */
  readonly service: 'kinesalite' | 'dynalite';
  readonly binding: LevelDbBinding;
  /** An absolute folder for its LevelDB, or undefined for memory. */
  readonly dataDir: string | undefined;
  readonly port: number;
  readonly logger: Logger;
  /** The server's own options besides `path`. */
  readonly options: Readonly<Record<string, number>>;
}

/**
 * Starts a LevelDB-backed server (kinesalite, dynalite: same factory shape) on 127.0.0.1: claims and
 * probes its folder, listens, and gives a stop that closes it and releases the folder.
 */
export async function startLevelDbServer(spec: LevelDbServerSpec): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const { caller, service, dataDir } = spec;
  const release = dataDir === undefined ? () => undefined : claimDataDir(caller, dataDir);
  try {
    if (dataDir !== undefined) await probeLevelDb(dataDir, spec.binding, service, service);
    let server: Server;
    try {
      const factory = requireFromKit(service) as (options: object) => Server;
      server = factory({ ...(dataDir === undefined ? {} : { path: dataDir }), ...spec.options });
    } catch (error) {
      throw new LocalCloudStartError(`${service} could not be created: ${messageOf(error)}. Check that the ${service} package is installed (npm ci).`, { cause: error });
    }
    let endpoint: string;
    try {
      endpoint = await listenOn(server, spec.port, service);
    } catch (error) {
      await closeServer(server, service).catch(() => undefined);
      throw error;
    }
    spec.logger.debug({ endpoint, dataDir }, `${service} started`);
    return { endpoint, stop: once(() => closeServer(server, service).finally(release)) };
  } catch (error) {
    release();
    throw error;
  }
}
