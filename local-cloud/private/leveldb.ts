import { mkdir } from 'node:fs/promises';

import { LocalCloudStartError } from '../errors.js';
import { requireFrom } from './require.js';
import { messageOf } from './server.js';

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
