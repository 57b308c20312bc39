import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Context } from 'cognito-local/lib/services/context.js';
import { StormDBDataStoreFactory } from 'cognito-local/lib/services/dataStore/stormDb.js';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LocalCloudError } from '../errors.js';
import { CoalescingDataStoreFactory, type WriteDocument } from './coalescing-store.js';

const ctx = { logger: pino({ level: 'silent' }) } as unknown as Context;

/** The writes a store made: file and the document written, in order. */
function recordingWriter(delayMs = 0): { write: WriteDocument; writes: { file: string; document: Record<string, unknown> }[]; maxInFlight: () => number } {
  const writes: { file: string; document: Record<string, unknown> }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    writes,
    maxInFlight: () => maxInFlight,
    write: async (file, text) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await writeFile(file, text);
      writes.push({ file, document: JSON.parse(text) as Record<string, unknown> });
      inFlight -= 1;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('CoalescingDataStoreFactory', () => {
  let directory: string;
  const errors: LocalCloudError[] = [];

  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'coalescing-store-'));
    errors.length = 0;
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const factory = (write: WriteDocument, writeDelayMs = 30) => new CoalescingDataStoreFactory({ directory, writeDelayMs, write, onWriteError: (error) => errors.push(error) });

  it('writes a new store at once, then a burst of changes in one write', async () => {
    const recorder = recordingWriter();
    const stores = factory(recorder.write);
    const store = await stores.create(ctx, 'pool_1', { Users: {}, Options: { Id: 'pool_1' } });
    expect(recorder.writes).toHaveLength(1);

    for (let i = 0; i < 100; i += 1) await store.set(ctx, ['Users', `user-${i}`], { Username: `user-${i}` });
    await store.delete(ctx, ['Users', 'user-0']);
    expect(recorder.writes).toHaveLength(1);

    await until(() => recorder.writes.length === 2, 'the coalesced write');
    await sleep(90);
    expect(recorder.writes).toHaveLength(2);
    const users = recorder.writes[1]?.document.Users as Record<string, unknown>;
    expect(Object.keys(users)).toHaveLength(99);
    expect(users).not.toHaveProperty('user-0');
    expect(recorder.writes[1]?.file).toBe(path.join(directory, 'pool_1.json'));
    await stores.close();
  });

  it('never runs two writes of one file at once, and writes the changes made during one after it', async () => {
    const recorder = recordingWriter(40);
    const stores = factory(recorder.write, 5);
    const store = await stores.create(ctx, 'pool_1', { Users: {} });
    await store.set(ctx, ['Users', 'a'], { Username: 'a' });
    // The write of `a` starts after 5 ms and lasts 40 ms: `b` comes while it runs.
    await sleep(20);
    await store.set(ctx, ['Users', 'b'], { Username: 'b' });
    await stores.close();

    expect(recorder.maxInFlight()).toBe(1);
    expect(Object.keys(recorder.writes.at(-1)?.document.Users as object).sort()).toEqual(['a', 'b']);
  });

  it('writes what is pending on close, and nothing after', async () => {
    const recorder = recordingWriter();
    const stores = factory(recorder.write, 60_000);
    const store = await stores.create(ctx, 'pool_1', { Users: {} });
    await store.set(ctx, ['Users', 'a'], { Username: 'a' });
    await stores.close();
    expect(recorder.writes).toHaveLength(2);
    expect(recorder.writes[1]?.document.Users).toEqual({ a: { Username: 'a' } });

    await store.set(ctx, ['Users', 'b'], { Username: 'b' });
    await sleep(50);
    expect(recorder.writes).toHaveLength(2);
  });

  it('stops writing a forgotten store, so a deleted pool stays deleted', async () => {
    const recorder = recordingWriter();
    const stores = factory(recorder.write, 20);
    const store = await stores.create(ctx, 'pool_1', { Users: {} });
    await store.set(ctx, ['Users', 'a'], { Username: 'a' });
    await stores.forget('pool_1');
    await sleep(60);
    await stores.close();
    expect(recorder.writes).toHaveLength(1);
    await expect(readFile(path.join(directory, 'pool_1.json.journal'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a failed write and writes the changes again later', async () => {
    const recorder = recordingWriter();
    let failures = 1;
    const stores = factory(async (file, text) => {
      if (failures > 0 && file.endsWith('pool_1.json') && text.includes('"a"')) {
        failures -= 1;
        throw new Error('disk full');
      }
      await recorder.write(file, text);
    }, 10);
    const store = await stores.create(ctx, 'pool_1', { Users: {} });
    await store.set(ctx, ['Users', 'a'], { Username: 'a' });
    await until(() => recorder.writes.length === 2, 'the write after the failed one');
    await stores.close();

    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(LocalCloudError);
    expect(errors[0]?.message).toMatch(/could not write .*pool_1\.json: disk full\. The changes stay in memory/);
    expect(recorder.writes[1]?.document.Users).toEqual({ a: { Username: 'a' } });
  });

  it('keeps the changes of a process that died between two writes: the next open replays its journal', async () => {
    const dead = factory(recordingWriter().write, 60_000);
    const store = await dead.create(ctx, 'pool_1', { Users: {} });
    const created = new Date('2026-03-04T05:06:07.890Z');
    await store.set(ctx, ['Users', 'a'], { Username: 'a' });
    await store.set(ctx, ['Users', 'b'], { Username: 'b', UserCreateDate: created });
    await store.delete(ctx, ['Users', 'a']);
    // The process dies here: the file still holds the empty pool, the journal the three changes.
    expect(JSON.parse(await readFile(path.join(directory, 'pool_1.json'), 'utf8'))).toEqual({ Users: {} });

    const recorder = recordingWriter();
    const restarted = factory(recorder.write);
    const reopened = await restarted.create(ctx, 'pool_1', { Users: {} });
    expect(await reopened.get(ctx, ['Users'])).toEqual({ b: { Username: 'b', UserCreateDate: created } });
    // The replayed changes are written into the file at once, and the journal is gone.
    expect(recorder.writes.at(-1)?.document).toEqual({ Users: { b: { Username: 'b', UserCreateDate: created.toISOString() } } });
    await expect(readFile(path.join(directory, 'pool_1.json.journal'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    await restarted.close();
    await dead.close();
  });

  it('empties the journal once the file holds its changes, and skips a torn last line', async () => {
    const recorder = recordingWriter();
    const stores = factory(recorder.write, 10);
    const store = await stores.create(ctx, 'pool_1', { Users: {} });
    await store.set(ctx, ['Users', 'a'], { Username: 'a' });
    expect(await readFile(path.join(directory, 'pool_1.json.journal'), 'utf8')).toBe('{"k":["Users","a"],"v":{"Username":"a"}}\n');
    await until(() => recorder.writes.length === 2, 'the coalesced write');
    await stores.close();
    await expect(readFile(path.join(directory, 'pool_1.json.journal'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

    // A process died while appending its last line: the full lines are replayed, the torn one skipped.
    await writeFile(path.join(directory, 'pool_1.json.journal'), '{"k":["Users","b"],"v":{"Username":"b"}}\n{"k":["Users","c"],"v":{"Userna');
    const reopened = await factory(recordingWriter().write).create(ctx, 'pool_1', { Users: {} });
    expect(Object.keys((await reopened.get(ctx, ['Users'])) ?? {}).sort()).toEqual(['a', 'b']);
  });

  it("reads cognito-local's own files and writes files cognito-local's own store reads, dates included", async () => {
    const created = new Date('2026-01-02T03:04:05.678Z');
    const theirs = await new StormDBDataStoreFactory(directory).create(ctx, 'pool_1', { Users: {} });
    await theirs.set(ctx, ['Users', 'a'], { Username: 'a', UserCreateDate: created });

    const stores = factory(recordingWriter().write);
    const ours = await stores.create(ctx, 'pool_1', { Users: {} });
    expect(await ours.get(ctx, ['Users', 'a'])).toEqual({ Username: 'a', UserCreateDate: created });
    await ours.set(ctx, ['Users', 'b'], { Username: 'b', UserCreateDate: created });
    await stores.close();

    const reread = await new StormDBDataStoreFactory(directory).create(ctx, 'pool_1', { Users: {} });
    expect(await reread.get(ctx, ['Users', 'b'])).toEqual({ Username: 'b', UserCreateDate: created });
    expect(JSON.parse(await readFile(path.join(directory, 'pool_1.json'), 'utf8'))).toHaveProperty('Users.a.UserCreateDate', created.toISOString());
  });

  it('answers get, getRoot, set and delete as a DataStore', async () => {
    const stores = factory(recordingWriter().write);
    const store = await stores.create(ctx, 'pool_1', { Users: {}, Options: { Id: 'pool_1' } });
    expect(await store.get(ctx, 'Options')).toEqual({ Id: 'pool_1' });
    expect(await store.get(ctx, ['Groups', 'missing'])).toBeNull();
    expect(await store.get(ctx, ['Groups', 'missing'], 'fallback')).toBe('fallback');
    await store.set(ctx, ['Groups', 'g'], { GroupName: 'g' });
    expect(await store.get(ctx, 'Groups', {})).toEqual({ g: { GroupName: 'g' } });
    await store.delete(ctx, ['Groups', 'g']);
    expect(await store.getRoot(ctx)).toEqual({ Users: {}, Options: { Id: 'pool_1' }, Groups: {} });
    await stores.close();
  });
});
