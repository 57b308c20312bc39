import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Context } from 'cognito-local/lib/services/context.js';
import type { DataStore } from 'cognito-local/lib/services/dataStore/dataStore.js';
import type { DataStoreFactory } from 'cognito-local/lib/services/dataStore/factory.js';

import { LocalCloudError } from '../errors.js';
import { messageOf } from './server.js';

/** Writes a store's whole document, serialized, to its file. */
export type WriteDocument = (file: string, text: string) => Promise<void>;

export interface CoalescingDataStoreOptions {
  /** Folder of the `<id>.json` files, cognito-local's `db/` folder. */
  readonly directory: string;
  /** How long a change waits for the ones after it before the document is written: one write serves them all. */
  readonly writeDelayMs: number;
  /** Told about a background write that failed; the changes stay pending and are written again after the next delay. */
  readonly onWriteError: (error: LocalCloudError) => void;
  /**
   * Writes a document to its file.
   * @default - to a `.tmp` file next to it, then renamed over it, so a crash never leaves half a file
   */
  readonly write?: WriteDocument;
}

/**
 * cognito-local's `DataStoreFactory`, keeping each store (a user pool, the app clients) in memory and
 * writing its file in the same format as cognito-local's StormDB store, `<id>.json`, but only once per
 * `writeDelayMs` after changes instead of on every change. cognito-local's own store rewrites the whole
 * pool file on each CreateGroup, AdminCreateUser or AdminAddUserToGroup, so those calls cost O(users).
 * `flush()` writes what is pending (stop calls it), so the data survives a restart; only a process killed
 * without stopping loses the changes of its last `writeDelayMs`.
 */
export class CoalescingDataStoreFactory implements DataStoreFactory {
  private readonly stores = new Map<string, DocumentStore>();
  private readonly write: WriteDocument;

  constructor(private readonly options: CoalescingDataStoreOptions) {
    this.write = options.write ?? writeAtomically;
  }

  /** The store of `id`, read from its file when there is one, else `defaults`; written at once when new. */
  async create(_ctx: Context, id: string, defaults: object): Promise<DataStore> {
    const open = this.stores.get(id);
    if (open) return open;
    const file = path.join(this.options.directory, `${id}.json`);
    const stored = await readDocument(file);
    // As StormDB's `default()`: an empty or missing document takes the defaults.
    const document = stored === undefined || Object.keys(stored).length === 0 ? (defaults as Document) : stored;
    const store = new DocumentStore(file, document, this.write, this.options);
    this.stores.set(id, store);
    // A new pool must have its file at once: cognito-local finds the pools on start by listing the files.
    await store.flush();
    return store;
  }

  /** Writes every store's pending changes now. */
  async flush(): Promise<void> {
    const results = await Promise.allSettled([...this.stores.values()].map((store) => store.flush()));
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (errors.length > 0) {
      throw new LocalCloudError(`cognito-local could not write its data: ${errors.map(messageOf).join('; ')}`, {
        cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
      });
    }
  }

  /** Stops writing the file of `id` (cognito-local deletes that pool's file next), once a write in progress is done. */
  async forget(id: string): Promise<void> {
    const store = this.stores.get(id);
    this.stores.delete(id);
    await store?.close();
  }

  /** Writes what is pending, then writes nothing more: for the server's stop. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.all([...this.stores.values()].map((store) => store.close()));
    this.stores.clear();
  }
}

type Document = Record<string, unknown>;

/** One store: its document in memory, written to its file at most once per delay while it changes. */
class DocumentStore implements DataStore {
  private timer: NodeJS.Timeout | undefined;
  /** The writes, one after the other: never two at once on one file. */
  private writes: Promise<void> = Promise.resolve();
  private dirty = true;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly document: Document,
    private readonly write: WriteDocument,
    private readonly options: CoalescingDataStoreOptions,
  ) {}

  // As cognito-local's own store, values are returned by reference: its services change and save them.
  get<T>(_ctx: Context, key: string | string[], defaultValue?: T): Promise<T | null> {
    return Promise.resolve((lookup(this.document, keyPath(key)) as T | undefined) ?? defaultValue ?? null);
  }

  getRoot<T>(_ctx: Context): Promise<T | null> {
    return Promise.resolve(this.document as T);
  }

  set<T>(_ctx: Context, key: string | string[], value: T): Promise<void> {
    const keys = keyPath(key);
    let parent = this.document;
    for (const name of keys.slice(0, -1)) {
      const child = parent[name];
      parent = isDocument(child) ? child : (parent[name] = {});
    }
    parent[keys[keys.length - 1]] = value;
    this.changed();
    return Promise.resolve();
  }

  delete(_ctx: Context, key: string | string[]): Promise<void> {
    const keys = keyPath(key);
    const parent = lookup(this.document, keys.slice(0, -1));
    if (isDocument(parent)) {
      delete parent[keys[keys.length - 1]];
      this.changed();
    }
    return Promise.resolve();
  }

  /** Writes the pending changes now (after a write in progress); rejects when that write fails. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.writes.catch(() => undefined).then(() => this.writeIfChanged());
    this.writes = next;
    return next;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
    await this.writes.catch(() => undefined);
  }

  private changed(): void {
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => {
        this.options.onWriteError(
          new LocalCloudError(`cognito-local could not write ${this.file}: ${messageOf(error)}. The changes stay in memory and are written again later.`, {
            cause: error,
          }),
        );
        this.schedule();
      });
    }, this.options.writeDelayMs);
  }

  private async writeIfChanged(): Promise<void> {
    if (!this.dirty || this.closed) return;
    // Serialized now: changes made while the file is written mark the store changed again.
    const text = JSON.stringify(this.document);
    this.dirty = false;
    try {
      await this.write(this.file, text);
    } catch (error) {
      this.dirty = true;
      throw error;
    }
  }
}

function keyPath(key: string | string[]): string[] {
  return Array.isArray(key) ? key : [key];
}

function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null;
}

function lookup(document: Document, keys: readonly string[]): unknown {
  let value: unknown = document;
  for (const name of keys) {
    if (!isDocument(value)) return undefined;
    value = value[name];
  }
  return value;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}

/** The document in `file`, in cognito-local's format (dates, in fields named `...Date`, as ISO strings); undefined when there is none. */
async function readDocument(file: string): Promise<Document | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (text.trim() === '') return undefined;
  return JSON.parse(text, reviveDates) as Document;
}

function reviveDates(key: string, value: unknown): unknown {
  return key.endsWith('Date') && (typeof value === 'string' || typeof value === 'number') ? new Date(value) : value;
}
