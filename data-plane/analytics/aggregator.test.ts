import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEvent, dataSchemaOf, MAX_EVENT_BYTES, parseEvent, type EventInputByType, type EventType, type KitEvent } from '../index.js';
import { ShardAggregator, aggregationSettings, type ShardRecord } from './aggregator.js';
import { readRecord } from './read-record.js';
import { syntheticTelemetry } from './synthetic.js';
import { exactQuantile, expectedDays } from './testing/ground-truth.js';
import { DayWindow, type DayFile, type WindowMetrics } from './window.js';

const SHARD = 'shardId-000000000000';
const TENANT = '0f8e4c2a-6b1d-4e3f-8a9b-7c6d5e4f3a2b';
const settings = aggregationSettings({ allowedLatenessMs: 3_600_000, dedupeCapacity: 1_000 });

let sequence = 0;
function record(data: string | Uint8Array | object): ShardRecord {
  sequence += 1;
  const bytes = typeof data === 'string' ? Buffer.from(data) : data instanceof Uint8Array ? data : Buffer.from(JSON.stringify(data));
  return { sequenceNumber: `4959${String(sequence).padStart(52, '0')}`, data: bytes, partitionKey: TENANT, arrivedAtMs: Date.parse('2024-06-01T00:00:00.000Z') };
}

function event<T extends EventType>(type: T, time: string, data: EventInputByType[T], tenantId = TENANT): KitEvent {
  return createEvent({ type, source: 'test', tenantId, time: new Date(time), data });
}

function files(aggregator: ShardAggregator): Map<string, DayFile> {
  return new Map(aggregator.dirtyDays().map((day) => [`${day.tenantId}/${new Date(day.dayStartMs).toISOString().slice(0, 10)}`, day.toFile()]));
}

/** The exact metrics of a window (not the approximate percentiles), and no more. */
function counts(metrics: WindowMetrics): Record<string, unknown> {
  const approximate = new Set(['durations', 'duration_p50_ms', 'duration_p95_ms', 'vcpu_seconds', 'hours', 'state', 'hour', 'window_start', 'tenant_id', 'day']);
  return Object.fromEntries(Object.entries(metrics).filter(([key]) => !approximate.has(key)));
}

describe('readRecord: the fast path says what parseEvent says', () => {
  const valid = [...take(syntheticTelemetry({ tenants: 5, seed: 3 }), 400)];
  const mutations: [string, (event: Record<string, unknown>) => unknown][] = [
    ['as is', (e) => e],
    ['extra data field', (e) => ({ ...e, data: { ...(e.data as object), extra: 1 } })],
    ['extension attribute', (e) => ({ ...e, traceparent: '00-abc' })],
    ['no datacontenttype', (e) => ({ ...e, datacontenttype: undefined })],
    ['wrong datacontenttype', (e) => ({ ...e, datacontenttype: 'text/plain' })],
    ['time with an offset', (e) => ({ ...e, time: (e.time as string).replace('Z', '+00:00') })],
    ['time without milliseconds', (e) => ({ ...e, time: (e.time as string).replace(/\.\d{3}Z$/, 'Z') })],
    ['impossible time', (e) => ({ ...e, time: '2024-02-30T00:00:00.000Z' })],
    ['upper-case subject', (e) => ({ ...e, subject: (e.subject as string).toUpperCase() })],
    ['no subject', (e) => ({ ...e, subject: undefined })],
    ['unknown type', (e) => ({ ...e, type: 'user.teleported' })],
    ['old dataschema', (e) => ({ ...e, dataschema: `urn:saas-tenancy-kit:event:${e.type as string}:v0` })],
    ['data null', (e) => ({ ...e, data: null })],
    ['data an array', (e) => ({ ...e, data: [] })],
    ['specversion 0.3', (e) => ({ ...e, specversion: '0.3' })],
    ['empty id', (e) => ({ ...e, id: '' })],
    ['negative number in data', (e) => ({ ...e, data: mapNumbers(e.data, (n) => -n - 1) })],
    ['fractional number in data', (e) => ({ ...e, data: mapNumbers(e.data, (n) => n + 0.5) })],
    ['huge number in data', (e) => ({ ...e, data: mapNumbers(e.data, () => 2 ** 53) })],
    ['upper-case ids in data', (e) => ({ ...e, data: mapStrings(e.data, (s) => (/^[0-9a-f-]{36}$/.test(s) ? s.toUpperCase() : s)) })],
    ['empty strings in data', (e) => ({ ...e, data: mapStrings(e.data, () => '') })],
    ['long strings in data', (e) => ({ ...e, data: mapStrings(e.data, (s) => s.padEnd(1025, 'x')) })],
    ['unknown job step', (e) => ({ ...e, data: { ...(e.data as object), steps: ['load', 'dance'], failedStep: 'dance' } })],
    ['no steps', (e) => ({ ...e, data: { ...(e.data as object), steps: [] } })],
    ['data field missing', (e) => ({ ...e, data: Object.fromEntries(Object.entries(e.data as object).slice(1)) })],
  ];

  it.each(mutations)('%s', (_name, mutate) => {
    for (const original of valid) {
      const mutated = mutate(JSON.parse(JSON.stringify(original)) as Record<string, unknown>);
      const bytes = Buffer.from(JSON.stringify(mutated));
      const fast = readRecord(bytes);
      const full = parseEvent(bytes);
      expect(fast.ok).toBe(full.ok);
      if (!fast.ok && !full.ok) expect(fast.reason).toBe(full.reason);
      if (fast.ok && full.ok) {
        expect(fast.tenantId).toBe(full.event.subject);
        expect(fast.timeMs).toBe(Date.parse(full.event.time));
        expect(fast.id).toBe(full.event.id);
      }
    }
  });

  it('gives the reason of parseEvent for bytes that are not an event', () => {
    const cases: [Uint8Array, string][] = [
      [Buffer.from('{"specversion":'), 'malformed-json'],
      [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'malformed-json'],
      [Buffer.from(JSON.stringify({ ...valid[0], pad: 'x'.repeat(MAX_EVENT_BYTES) })), 'oversize'],
      [Buffer.from('[]'), 'not-an-envelope'],
    ];
    for (const [bytes, reason] of cases) {
      const result = readRecord(bytes);
      expect(result.ok ? 'ok' : result.reason).toBe(reason);
    }
  });

  it('says what parseEvent says of a byte order mark before an event, and of a U+FFFD written in one', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(valid[0]))]);
    const withReplacement = Buffer.from(JSON.stringify({ ...valid[0], source: '/kit/\uFFFD' }));
    for (const bytes of [withBom, withReplacement]) {
      const fast = readRecord(bytes);
      const full = parseEvent(bytes);
      expect([fast.ok, fast.ok && fast.id]).toEqual([full.ok, full.ok && full.event.id]);
    }
  });

  it('reads a job.succeeded of v1 through the upcast (vcpuSeconds -> vcpuMs)', () => {
    const v1 = { ...event('job.succeeded', '2024-06-01T10:00:00.000Z', { jobId: randomUUID(), durationMs: 1000, vcpuMs: 1, bytesRead: 0, bytesWritten: 0 }) } as Record<string, unknown>;
    v1.dataschema = dataSchemaOf('job.succeeded', 1);
    v1.data = { jobId: randomUUID(), durationMs: 1_000, vcpuSeconds: 2.5, bytesRead: 3, bytesWritten: 4 };
    const result = readRecord(Buffer.from(JSON.stringify(v1)));
    expect(result.ok && result.vcpuMs).toBe(2_500);
  });
});

function* take<T>(items: Iterable<T>, count: number): Generator<T> {
  if (count <= 0) return;
  let taken = 0;
  for (const item of items) {
    yield item;
    taken += 1;
    if (taken >= count) return;
  }
}

function mapNumbers(value: unknown, map: (n: number) => number): unknown {
  if (typeof value === 'number') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapNumbers(item, map));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapNumbers(item, map)]));
  return value;
}

function mapStrings(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, map)]));
  return value;
}

describe('ShardAggregator', () => {
  const user = randomUUID();
  const other = randomUUID();
  const job = (): string => randomUUID();
  const day = [
    event('tenant.registered', '2024-06-01T08:00:00.000Z', { name: 'acme', plan: 'standard', tier: 'pool', reasons: [] }),
    // Session a: a job between login and logout -> not idle.
    event('user.login', '2024-06-01T09:00:00.000Z', { userId: user, sessionId: 'a' }),
    event('job.submitted', '2024-06-01T09:10:00.000Z', { jobId: job(), steps: ['load'], requestedVcpu: 1, userId: user }),
    event('user.logout', '2024-06-01T09:20:00.000Z', { userId: user, sessionId: 'a' }),
    // Session b: the only job after its logout -> idle in its hour and its day.
    event('user.login', '2024-06-01T10:00:00.000Z', { userId: other, sessionId: 'b' }),
    event('user.logout', '2024-06-01T10:05:00.000Z', { userId: other, sessionId: 'b' }),
    event('job.submitted', '2024-06-01T10:30:00.000Z', { jobId: job(), steps: ['load'], requestedVcpu: 1, userId: other }),
    // Session c: no logout; a job in a later hour -> idle in its hour, not in the day.
    event('user.login', '2024-06-01T11:50:00.000Z', { userId: user, sessionId: 'c' }),
    event('job.submitted', '2024-06-01T12:10:00.000Z', { jobId: job(), steps: ['load'], requestedVcpu: 1, userId: user }),
    event('datalake.object.uploaded', '2024-06-01T12:20:00.000Z', { key: 'a.csv', bytes: 100 }),
    event('datalake.object.uploaded', '2024-06-01T12:21:00.000Z', { key: 'b.csv', bytes: 50 }),
    event('datalake.dataset.created', '2024-06-01T12:22:00.000Z', { datasetId: randomUUID(), name: 'x', sizeBytes: 1_000 }),
    event('datalake.dataset.deleted', '2024-06-01T12:23:00.000Z', { datasetId: randomUUID(), name: 'y', sizeBytes: 300 }),
    event('job.started', '2024-06-01T12:30:00.000Z', { jobId: job(), queuedMs: 5 }),
    event('job.succeeded', '2024-06-01T13:00:00.000Z', { jobId: job(), durationMs: 10_000, vcpuMs: 20_000, bytesRead: 7, bytesWritten: 8 }),
    event('job.failed', '2024-06-01T13:10:00.000Z', { jobId: job(), failedStep: null, reason: 'x', durationMs: 20_000, vcpuMs: 1_000, bytesRead: 1, bytesWritten: 0 }),
    event('job.cancelled', '2024-06-01T13:20:00.000Z', { jobId: job(), durationMs: 30_000, vcpuMs: 5, bytesRead: 0, bytesWritten: 0 }),
    event('user.created', '2024-06-01T13:30:00.000Z', { userId: user, email: 'a@b.example', role: 'tenant-user' }),
    // Session d: only another user's job while it lasts -> idle (idleness is per user).
    event('user.login', '2024-06-01T14:00:00.000Z', { userId: other, sessionId: 'd' }),
    event('job.submitted', '2024-06-01T14:05:00.000Z', { jobId: job(), steps: ['load'], requestedVcpu: 1, userId: user }),
    event('user.logout', '2024-06-01T14:10:00.000Z', { userId: other, sessionId: 'd' }),
    // Session e: a job submitted without a user (a platform operator's) -> not idle, as for every session of the tenant.
    event('user.login', '2024-06-01T15:00:00.000Z', { userId: other, sessionId: 'e' }),
    event('job.submitted', '2024-06-01T15:05:00.000Z', { jobId: job(), steps: ['load'], requestedVcpu: 1, userId: null }),
  ];

  it('counts a day and its hours, sessions with and without jobs included', () => {
    const aggregator = new ShardAggregator(SHARD, settings);
    aggregator.applyFresh(day.map(record));
    const file = files(aggregator).get(`${TENANT}/2024-06-01`);
    expect(file).toMatchObject({
      registrations: 1,
      logins: 5,
      active_users: 2,
      sessions: 5,
      idle_sessions: 2,
      uploads: 2,
      upload_bytes: 150,
      datasets_created: 1,
      datasets_deleted: 1,
      dataset_bytes_net: 700,
      jobs_submitted: 5,
      jobs_started: 1,
      jobs_succeeded: 1,
      jobs_failed: 1,
      jobs_cancelled: 1,
      vcpu_ms: 21_005,
      vcpu_seconds: 21.005,
      job_bytes_read: 8,
      job_bytes_written: 8,
    });
    expect(file?.duration_p50_ms).toBeCloseTo(20_000, -3);
    const hour = (h: number) => file?.hours.find((row) => row.hour === h);
    expect(hour(9)).toMatchObject({ logins: 1, sessions: 1, idle_sessions: 0, jobs_submitted: 1 });
    expect(hour(10)).toMatchObject({ logins: 1, sessions: 1, idle_sessions: 1, jobs_submitted: 1 });
    expect(hour(11)).toMatchObject({ logins: 1, sessions: 1, idle_sessions: 1, active_users: 1 });
    expect(hour(13)).toMatchObject({ jobs_succeeded: 1, jobs_failed: 1, jobs_cancelled: 1 });
    expect(hour(14)).toMatchObject({ logins: 1, sessions: 1, idle_sessions: 1, jobs_submitted: 1 });
    expect(hour(15)).toMatchObject({ logins: 1, sessions: 1, idle_sessions: 0, jobs_submitted: 1 });
    expect(hour(16)).toBeUndefined();
    // The plain computation agrees.
    const expected = expectedDays(day).get(`${TENANT}/2024-06-01`);
    expect(counts(file as DayFile)).toEqual(counts({ ...(file as DayFile), ...expected }));
    expect(expected?.durations).toEqual([10_000, 20_000, 30_000]);
  });

  it('gives the same files whatever the order of the events', () => {
    const inOrder = new ShardAggregator(SHARD, settings);
    inOrder.applyFresh(day.map(record));
    const shuffled = new ShardAggregator(SHARD, settings);
    shuffled.applyFresh([...day].reverse().map(record));
    const strip = (file: DayFile | undefined) => file && { ...file, state: { ...file.state, applied: {}, sessions: [...file.state.sessions].sort(), users: [...file.state.users].sort(), jobTimes: [...file.state.jobTimes].sort(), userJobTimes: [...(file.state.userJobTimes ?? [])].map(([id, times]) => [id, [...times].sort()]).sort() } };
    expect(strip(files(shuffled).get(`${TENANT}/2024-06-01`))).toEqual(strip(files(inOrder).get(`${TENANT}/2024-06-01`)));
  });

  it('drops a repeated event id, also after the shard state is saved and loaded', () => {
    const login = event('user.login', '2024-06-01T09:00:00.000Z', { userId: user, sessionId: 's' });
    const aggregator = new ShardAggregator(SHARD, settings);
    aggregator.applyFresh([record(login), record(login)]);
    expect(aggregator.stats).toMatchObject({ applied: 1, duplicates: 1 });
    const restarted = new ShardAggregator(SHARD, settings, JSON.parse(JSON.stringify(aggregator.state())));
    restarted.applyFresh([record(login)]);
    expect(restarted.stats).toMatchObject({ applied: 0, duplicates: 1 });
  });

  it('forgets ids beyond its capacity (a documented bound)', () => {
    const small = new ShardAggregator(SHARD, aggregationSettings({ dedupeCapacity: 2 }));
    const events = [0, 1, 2].map((minute) => event('user.login', `2024-06-01T09:0${minute}:00.000Z`, { userId: user, sessionId: `s${minute}` }));
    small.applyFresh([...events, ...events].map(record));
    // The first repeat comes 3 records after its original: forgotten with a capacity of 2.
    expect(small.stats).toMatchObject({ applied: 6, duplicates: 0 });
  });

  it('skips records at or below the sequence numbers a day file says it holds (a replay after a crash)', () => {
    const records = day.map(record);
    const first = new ShardAggregator(SHARD, settings);
    const before = first.state();
    first.applyFresh(records);
    const saved = JSON.parse(JSON.stringify(files(first).get(`${TENANT}/2024-06-01`))) as DayFile;
    // Restart from the state before the batch (the checkpoint was not written), with the saved day.
    const replay = new ShardAggregator(SHARD, settings, before);
    const pending = replay.ingest(records);
    for (const missing of replay.missingDays(pending)) replay.install(missing.tenantId, missing.dayStartMs, saved, 'test');
    replay.apply(pending);
    expect(replay.stats).toMatchObject({ applied: 0, replayed: day.length });
    expect(replay.dirtyDays()).toEqual([]);
    // Records below processedUpTo of the shard state are not even read.
    const again = new ShardAggregator(SHARD, settings, first.state());
    expect(again.ingest(records)).toEqual([]);
    expect(again.stats.records).toBe(0);
  });

  it('updates a closed hour within the lateness, and dead-letters what comes after its day closed', () => {
    const aggregator = new ShardAggregator(SHARD, settings);
    const late = [
      event('user.login', '2024-06-01T09:00:00.000Z', { userId: user, sessionId: 'a' }),
      event('user.login', '2024-06-02T00:30:00.000Z', { userId: user, sessionId: 'b' }),
      // Day 1 still open (its end + 1 h lateness is 01:00 on day 2): counted in hour 9 of day 1.
      event('job.submitted', '2024-06-01T09:30:00.000Z', { jobId: job(), steps: ['load'], requestedVcpu: 1, userId: user }),
      event('user.login', '2024-06-02T01:00:00.000Z', { userId: user, sessionId: 'c' }),
      // Now day 1 is closed.
      event('job.submitted', '2024-06-01T23:59:59.999Z', { jobId: job(), steps: ['load'], requestedVcpu: 1, userId: user }),
    ];
    aggregator.applyFresh(late.map(record));
    expect(aggregator.stats).toMatchObject({ applied: 4, deadLetters: { late: 1 } });
    const letters = aggregator.takeDeadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'late', shardId: SHARD });
    const file = files(aggregator).get(`${TENANT}/2024-06-01`);
    expect(file?.hours.find((row) => row.hour === 9)).toMatchObject({ jobs_submitted: 1, idle_sessions: 0 });
    // Closed days leave memory once saved.
    for (const dirty of aggregator.dirtyDays()) dirty.dirty = false;
    expect(aggregator.dropClosedDays()).toBe(1);
    expect(aggregator.openDays).toBe(1);
  });

  it('sends records the catalog refuses to dead letters with its reason, and goes on', () => {
    const aggregator = new ShardAggregator(SHARD, settings);
    const good = event('user.login', '2024-06-01T09:00:00.000Z', { userId: user, sessionId: 'a' });
    aggregator.applyFresh([
      record('not json'),
      record({ ...good, type: 'user.teleported' }),
      record({ ...good, subject: undefined }),
      record({ ...good, data: { ...good.data, pad: 'x'.repeat(MAX_EVENT_BYTES) } }),
      record(good),
    ]);
    expect(aggregator.stats).toMatchObject({ applied: 1, deadLetters: { 'malformed-json': 1, 'unknown-type': 1, 'missing-tenant': 1, oversize: 1 } });
    expect(aggregator.takeDeadLetters().map((letter) => letter.reason)).toEqual(['malformed-json', 'unknown-type', 'missing-tenant', 'oversize']);
  });

  it('reads its own files back to the same state', () => {
    const aggregator = new ShardAggregator(SHARD, settings);
    aggregator.applyFresh(day.map(record));
    const file = files(aggregator).get(`${TENANT}/2024-06-01`) as DayFile;
    const copy = DayWindow.fromFile(JSON.parse(JSON.stringify(file)) as DayFile, 'test').toFile();
    expect(copy).toEqual(file);
  });

  it('matches the plain computation on a generated workload, percentiles within 1%', () => {
    const events = [...take(syntheticTelemetry({ tenants: 20, seed: 11, meanSessionGapMs: 20_000 }), 5_000)];
    const aggregator = new ShardAggregator(SHARD, aggregationSettings({ allowedLatenessMs: 10 * 86_400_000 }));
    const records = events.map(record);
    for (let start = 0; start < records.length; start += 700) aggregator.applyFresh(records.slice(start, start + 700));
    const actual = files(aggregator);
    const expected = expectedDays(events);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, want] of expected) {
      const got = actual.get(key) as DayFile;
      const { durations, hours, ...wantCounts } = want;
      expect(counts(got)).toEqual(counts({ ...got, ...wantCounts }));
      for (const [quantile, value] of [[0.5, got.duration_p50_ms], [0.95, got.duration_p95_ms]] as const) {
        const exact = exactQuantile(durations, quantile);
        if (exact === null) expect(value).toBeNull();
        else expect(Math.abs((value as number) - exact)).toBeLessThanOrEqual(exact * 0.01 + 1e-9);
      }
      expect(got.hours.map((row) => row.hour)).toEqual([...hours.keys()].sort((a, b) => a - b));
      for (const row of got.hours) {
        expect(counts(row)).toEqual(counts({ ...row, ...hours.get(row.hour) }));
      }
    }
  });
});
