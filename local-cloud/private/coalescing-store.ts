import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
 *
 * Nothing is lost when the process dies between two writes: every change is first appended to a
 * journal next to the file, `<id>.json.journal` (one JSON line, O(change)), before cognito-local
 * answers the call. Opening a store replays its journal over its file; each write of the file empties the
 * journal of the changes it holds. cognito-local lists pools by their `.json` files, so it never sees a journal.
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
    // Changes the last process made after its last write of the file (it died before writing again).
    const replayed = await replayJournal(journalOf(file), document);
    const store = new DocumentStore(file, document, this.write, this.options);
    this.stores.set(id, store);
    // A new pool must have its file at once: cognito-local finds the pools on start by listing the files.
    // A replayed journal goes into the file too, and the journal is emptied.
    await store.flush(replayed > 0);
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

  /** Stops writing the file of `id` (cognito-local deletes that pool's file next), once a write in progress is done; drops its journal. */
  async forget(id: string): Promise<void> {
    const store = this.stores.get(id);
    this.stores.delete(id);
    await store?.close();
    await rm(journalOf(path.join(this.options.directory, `${id}.json`)), { force: true });
  }

  /** Writes what is pending, then writes nothing more: for the server's stop. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.all([...this.stores.values()].map((store) => store.close()));
    this.stores.clear();
  }
}

type Document = Record<string, unknown>;

/** One journal line: a `set` of `k` to `v`, or a `delete` of `k`. */
type JournalEntry = { readonly k: string[]; readonly v: unknown } | { readonly k: string[]; readonly d: true };

/** One store: its document in memory, written to its file at most once per delay while it changes. */
class DocumentStore implements DataStore {
  private timer: NodeJS.Timeout | undefined;
  /** The writes, one after the other: never two at once on one file. */
  private writes: Promise<void> = Promise.resolve();
  /** The journal's appends and rewrites, one after the other, in the order of the changes. */
  private journalOps: Promise<void> = Promise.resolve();
  /** Journal lines of the changes not yet in the file, oldest first. */
  private journaled: string[] = [];
  private readonly journal: string;
  private dirty = true;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly document: Document,
    private readonly write: WriteDocument,
    private readonly options: CoalescingDataStoreOptions,
  ) {
    this.journal = journalOf(file);
  }

  // As cognito-local's own store, values are returned by reference: its services change and save them.
  get<T>(_ctx: Context, key: string | string[], defaultValue?: T): Promise<T | null> {
    return Promise.resolve((lookup(this.document, keyPath(key)) as T | undefined) ?? defaultValue ?? null);
  }

  getRoot<T>(_ctx: Context): Promise<T | null> {
    return Promise.resolve(this.document as T);
  }

  set<T>(_ctx: Context, key: string | string[], value: T): Promise<void> {
    const keys = keyPath(key);
    setPath(this.document, keys, value);
    this.changed();
    return this.record({ k: keys, v: value });
  }

  delete(_ctx: Context, key: string | string[]): Promise<void> {
    const keys = keyPath(key);
    if (!deletePath(this.document, keys)) return Promise.resolve();
    this.changed();
    return this.record({ k: keys, d: true });
  }

  /** Appends a change to the journal; cognito-local answers its call once the line is written. */
  private record(entry: JournalEntry): Promise<void> {
    if (this.closed) return Promise.resolve();
    // Serialized now: cognito-local goes on changing the objects it stored.
    const line = JSON.stringify(entry) + '\n';
    this.journaled.push(line);
    const appended = this.journalOps.then(() => appendFile(this.journal, line));
    this.journalOps = appended.catch(() => undefined);
    return appended;
  }

  /** Writes the pending changes now (after a write in progress); rejects when that write fails. */
  flush(force = false): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (force) this.dirty = true;
    const next = this.writes.catch(() => undefined).then(() => this.writeIfChanged());
    this.writes = next;
    return next;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.closed = true;
    await this.writes.catch(() => undefined);
    await this.journalOps;
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
    const included = this.journaled.length;
    this.dirty = false;
    try {
      await this.write(this.file, text);
    } catch (error) {
      this.dirty = true;
      throw error;
    }
    // The file holds the first `included` changes: the journal keeps only the later ones. A later change
    // whose append is still queued may end up in the journal twice; replaying a suffix again in order
    // gives the same document, so that is harmless.
    this.journaled = this.journaled.slice(included);
    const rewritten = this.journalOps.then(() => (this.journaled.length === 0 ? rm(this.journal, { force: true }) : writeFile(this.journal, this.journaled.join(''))));
    this.journalOps = rewritten.catch(() => undefined);
    await rewritten;
  }
}

function keyPath(key: string | string[]): string[] {
  return Array.isArray(key) ? key : [key];
}

function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null;
}

/** Sets the value at `keys`, making the objects on the way, as StormDB's `set` does. */
function setPath(document: Document, keys: readonly string[], value: unknown): void {
  let parent = document;
  for (const name of keys.slice(0, -1)) {
    const child = parent[name];
    parent = isDocument(child) ? child : (parent[name] = {});
  }
  parent[keys[keys.length - 1]] = value;
}

/** Deletes the value at `keys`; false when its parent does not exist. */
function deletePath(document: Document, keys: readonly string[]): boolean {
  const parent = lookup(document, keys.slice(0, -1));
  if (!isDocument(parent)) return false;
  delete parent[keys[keys.length - 1]];
  return true;
}

function lookup(document: Document, keys: readonly string[]): unknown {
  let value: unknown = document;
  for (const name of keys) {
    if (!isDocument(value)) return undefined;
    value = value[name];
  }
  return value;
}

function journalOf(file: string): string {
  return `${file}.journal`;
}

/** Applies the journal's changes to `document`; returns how many. A torn last line (the process died while appending it) is skipped. */
async function replayJournal(journal: string, document: Document): Promise<number> {
  let text: string;
  try {
    text = await readFile(journal, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const lines = text.split('\n').filter((line) => line !== '');
  let applied = 0;
  for (const [index, line] of lines.entries()) {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line, reviveDates) as JournalEntry;
    } catch (error) {
      if (index === lines.length - 1) break;
      throw new LocalCloudError(`cognito-local's journal ${journal} has a damaged line ${index + 1} of ${lines.length}: ${messageOf(error)}. Move the file away to start from the last full write.`, { cause: error });
    }
    if ('d' in entry) deletePath(document, entry.k);
    else setPath(document, entry.k, entry.v);
    applied += 1;
  }
  return applied;
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
