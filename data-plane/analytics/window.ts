/**
 * One tenant's day: the hour windows and the day window of one UTC day, in one object that is also
 * the unit of storage (one S3 file per tenant per day). Order-independent: applying the same events
 * in any order gives the same state, so a replay after a crash, or a late event, lands where it would
 * have landed the first time. Memory grows with the users, sessions and jobs of the day, not with its events.
 */
import { AnalyticsStateError } from './errors.js';
import { Kind, type Fact } from './read-record.js';
import { Durations, type StoredDurations } from './sketch.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The additive metrics, one slot per hour each. */
const COUNTERS = [
  'registrations',
  'logins',
  'uploads',
  'upload_bytes',
  'datasets_created',
  'datasets_deleted',
  'dataset_bytes_net',
  'jobs_submitted',
  'jobs_started',
  'jobs_succeeded',
  'jobs_failed',
  'jobs_cancelled',
  'vcpu_ms',
  'job_bytes_read',
  'job_bytes_written',
] as const;

type Counter = (typeof COUNTERS)[number];

const C = Object.fromEntries(COUNTERS.map((name, index) => [name, index])) as Record<Counter, number>;
const WIDTH = COUNTERS.length;

/** The metrics of one window, as the day files carry them (snake_case: Athena's column names). */
export type WindowMetrics = Record<Counter, number> & {
  /** Users with a `user.login` in the window. */
  readonly active_users: number;
  /** Sessions whose `user.login` is in the window. */
  readonly sessions: number;
  /** Of those, sessions in which their user submitted no job (see docs/analytics.md). */
  readonly idle_sessions: number;
  readonly vcpu_seconds: number;
  /** Exact up to 32 ended jobs in the window, else within 1% (DDSketch); null without ended jobs. */
  readonly duration_p50_ms: number | null;
  readonly duration_p95_ms: number | null;
};

export interface HourRow extends WindowMetrics {
  readonly hour: number;
  readonly window_start: string;
}

/** A day file: one JSON line; `state` is what the consumer reloads, Athena ignores it. */
export interface DayFile extends WindowMetrics {
  readonly tenant_id: string;
  readonly day: string;
  readonly window_start: string;
  /** The hours with any activity. */
  readonly hours: readonly HourRow[];
  readonly state: DayState;
}

/** Everything needed to go on aggregating the day, exactly. */
export interface DayState {
  readonly version: 1;
  /** Per shard, the highest sequence number applied to this day: records at or below it are not applied again. */
  readonly applied: Readonly<Record<string, string>>;
  /** Hour-major counters, `COUNTERS.length` per hour. */
  readonly counters: readonly number[];
  /** `[userId, bit mask of the hours with a login]`. */
  readonly users: readonly (readonly [string, number])[];
  /** `[sessionId, login ms or null, logout ms or null, userId or null]` (files of an earlier version have no userId). */
  readonly sessions: readonly (readonly [string, number | null, number | null, (string | null)?])[];
  /** Times (epoch ms) of the jobs submitted without a user (`job.submitted` v1, or by a platform operator). */
  readonly jobTimes: readonly number[];
  /** `[userId, times of the jobs that user submitted]` (absent from files of an earlier version). */
  readonly userJobTimes?: readonly (readonly [string, readonly number[]])[];
  /** Durations of the ended jobs of each hour that has some, by hour: exact values or a sketch's bins. */
  readonly sketches: Readonly<Record<string, StoredDurations>>;
}

/** Compares Kinesis sequence numbers (decimal strings of up to 128 bits). */
export function compareSequence(left: string, right: string): number {
  if (left.length !== right.length) return left.length - right.length;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** `YYYY-MM-DD` of the UTC day starting at `dayStartMs`. */
export function dayName(dayStartMs: number): string {
  return new Date(dayStartMs).toISOString().slice(0, 10);
}

export class DayWindow {
  public readonly tenantId: string;
  public readonly dayStartMs: number;
  /** Applied since the last save. */
  public dirty = false;
  /** Shards that applied to this day (one or two, so a scan; the shard id is one string object per aggregator) and the highest sequence of each. */
  private readonly appliedShards: string[] = [];
  private readonly appliedSequences: string[] = [];
  private readonly counters = new Float64Array(24 * WIDTH);
  private readonly users = new Map<string, number>();
  /**
   * Session id -> its number; `sessionTimes` holds the earliest login and logout of session n (in this
   * day) at 2n and 2n + 1, Infinity for none. Numbers in a typed array, not an object per session: the
   * sessions of the day stay in memory, and small objects that stay cost the garbage collector the most.
   */
  private readonly sessions = new Map<string, number>();
  private sessionTimes = new Float64Array(16).fill(Infinity);
  /** The user of session n, from its login or logout ('' until one is seen). */
  private readonly sessionUsers: string[] = [];
  /** Times of the jobs submitted without a user: they end the idleness of every session of the tenant. */
  private readonly jobTimes: number[] = [];
  /** Times of the jobs each user submitted: they end the idleness of that user's sessions. */
  private readonly userJobTimes = new Map<string, number[]>();
  private readonly durations: (Durations | undefined)[] = new Array<Durations | undefined>(24);

  public constructor(tenantId: string, dayStartMs: number) {
    this.tenantId = tenantId;
    this.dayStartMs = dayStartMs;
  }

  /** Whether a record of `shardId` at `sequenceNumber` is already in this day. */
  public hasApplied(shardId: string, sequenceNumber: string): boolean {
    const index = this.appliedShards.indexOf(shardId);
    return index >= 0 && compareSequence(sequenceNumber, this.appliedSequences[index]) <= 0;
  }

  /** The highest sequence number of `shardId` applied to this day, if any. */
  public appliedUpTo(shardId: string): string | undefined {
    const index = this.appliedShards.indexOf(shardId);
    return index >= 0 ? this.appliedSequences[index] : undefined;
  }

  private setApplied(shardId: string, sequenceNumber: string): void {
    const index = this.appliedShards.indexOf(shardId);
    if (index >= 0) {
      this.appliedSequences[index] = sequenceNumber;
    } else {
      this.appliedShards.push(shardId);
      this.appliedSequences.push(sequenceNumber);
    }
  }

  /** Adds one event of this tenant and day, read at `sequenceNumber` of `shardId` (records of a shard come in order). */
  public apply(fact: Fact, shardId: string, sequenceNumber: string): void {
    this.setApplied(shardId, sequenceNumber);
    this.dirty = true;
    const hour = Math.floor((fact.timeMs - this.dayStartMs) / HOUR_MS);
    const base = hour * WIDTH;
    const counters = this.counters;
    switch (fact.kind) {
      case Kind.registered:
        counters[base + C.registrations] += 1;
        break;
      case Kind.login: {
        counters[base + C.logins] += 1;
        const hours = this.users.get(fact.userId) ?? 0;
        if ((hours & (1 << hour)) === 0) this.users.set(fact.userId, hours | (1 << hour));
        const at = this.session(fact.sessionId, fact.userId);
        if (fact.timeMs < this.sessionTimes[at]) this.sessionTimes[at] = fact.timeMs;
        break;
      }
      case Kind.logout: {
        const at = this.session(fact.sessionId, fact.userId) + 1;
        if (fact.timeMs < this.sessionTimes[at]) this.sessionTimes[at] = fact.timeMs;
        break;
      }
      case Kind.uploaded:
        counters[base + C.uploads] += 1;
        counters[base + C.upload_bytes] += fact.amount;
        break;
      case Kind.datasetCreated:
        counters[base + C.datasets_created] += 1;
        counters[base + C.dataset_bytes_net] += fact.amount;
        break;
      case Kind.datasetDeleted:
        counters[base + C.datasets_deleted] += 1;
        counters[base + C.dataset_bytes_net] -= fact.amount;
        break;
      case Kind.jobSubmitted:
        counters[base + C.jobs_submitted] += 1;
        if (fact.userId === '') {
          this.jobTimes.push(fact.timeMs);
        } else {
          const times = this.userJobTimes.get(fact.userId);
          if (times === undefined) this.userJobTimes.set(fact.userId, [fact.timeMs]);
          else times.push(fact.timeMs);
        }
        break;
      case Kind.jobStarted:
        counters[base + C.jobs_started] += 1;
        break;
      case Kind.jobSucceeded:
      case Kind.jobFailed:
      case Kind.jobCancelled: {
        const ended = fact.kind === Kind.jobSucceeded ? C.jobs_succeeded : fact.kind === Kind.jobFailed ? C.jobs_failed : C.jobs_cancelled;
        counters[base + ended] += 1;
        counters[base + C.vcpu_ms] += fact.vcpuMs;
        counters[base + C.job_bytes_read] += fact.bytesRead;
        counters[base + C.job_bytes_written] += fact.bytesWritten;
        let durations = this.durations[hour];
        if (durations === undefined) {
          durations = new Durations();
          this.durations[hour] = durations;
        }
        durations.add(fact.amount);
        break;
      }
      default:
        // Other types (status and tier changes, user.created, billing) are not aggregated here.
        break;
    }
  }

  /** Where the session's login time is in `sessionTimes` (its logout time is next); a new session gets a place. */
  private session(sessionId: string, userId: string): number {
    const known = this.sessions.get(sessionId);
    if (known !== undefined) {
      if (this.sessionUsers[known] === '') this.sessionUsers[known] = userId;
      return known * 2;
    }
    const number = this.sessions.size;
    this.sessions.set(sessionId, number);
    this.sessionUsers.push(userId);
    if (number * 2 === this.sessionTimes.length) {
      const grown = new Float64Array(this.sessionTimes.length * 2).fill(Infinity);
      grown.set(this.sessionTimes);
      this.sessionTimes = grown;
    }
    return number * 2;
  }

  /** The day file: metrics of the day and of each active hour, and the state to go on from. */
  public toFile(): DayFile {
    const jobTimes: SortedJobTimes = { withoutUser: Float64Array.from(this.jobTimes).sort(), byUser: new Map() };
    for (const [userId, times] of this.userJobTimes) jobTimes.byUser.set(userId, Float64Array.from(times).sort());
    const hours: HourRow[] = [];
    for (let hour = 0; hour < 24; hour += 1) {
      const metrics = this.metrics(hour, jobTimes);
      if (COUNTERS.some((name) => metrics[name] !== 0) || metrics.sessions > 0) {
        hours.push({ hour, window_start: new Date(this.dayStartMs + hour * HOUR_MS).toISOString(), ...metrics });
      }
    }
    return {
      tenant_id: this.tenantId,
      day: dayName(this.dayStartMs),
      window_start: new Date(this.dayStartMs).toISOString(),
      ...this.metrics(undefined, jobTimes),
      hours,
      state: this.state(),
    };
  }

  /** Metrics of one hour, or of the day when `hour` is undefined. */
  private metrics(hour: number | undefined, jobTimes: SortedJobTimes): WindowMetrics {
    const first = hour ?? 0;
    const last = hour ?? 23;
    const windowStart = this.dayStartMs + first * HOUR_MS;
    const windowEnd = this.dayStartMs + (last + 1) * HOUR_MS;
    const sums = {} as Record<Counter, number>;
    for (const name of COUNTERS) {
      let sum = 0;
      for (let h = first; h <= last; h += 1) sum += this.counters[h * WIDTH + C[name]];
      sums[name] = sum;
    }
    let activeUsers = 0;
    const mask = hour === undefined ? 0xffffff : 1 << hour;
    for (const hours of this.users.values()) if ((hours & mask) !== 0) activeUsers += 1;
    let sessions = 0;
    let idle = 0;
    const times = this.sessionTimes;
    for (let at = 0; at < this.sessions.size * 2; at += 2) {
      const login = times[at];
      const logout = times[at + 1];
      if (login < windowStart || login >= windowEnd) continue;
      sessions += 1;
      const end = logout >= login && logout < windowEnd ? logout : windowEnd;
      const ownJobs = jobTimes.byUser.get(this.sessionUsers[at / 2]);
      if (!hasTimeIn(jobTimes.withoutUser, login, end) && (ownJobs === undefined || !hasTimeIn(ownJobs, login, end))) idle += 1;
    }
    let durations: Durations | undefined;
    if (hour !== undefined) {
      durations = this.durations[hour];
    } else {
      for (const hourDurations of this.durations) {
        if (hourDurations === undefined) continue;
        durations ??= new Durations();
        durations.merge(hourDurations);
      }
    }
    return {
      ...sums,
      active_users: activeUsers,
      sessions,
      idle_sessions: idle,
      vcpu_seconds: sums.vcpu_ms / 1000,
      duration_p50_ms: durations?.quantile(0.5) ?? null,
      duration_p95_ms: durations?.quantile(0.95) ?? null,
    };
  }

  private state(): DayState {
    const sketches: Record<string, StoredDurations> = {};
    this.durations.forEach((durations, hour) => {
      if (durations !== undefined) sketches[String(hour)] = durations.store();
    });
    return {
      version: 1,
      applied: Object.fromEntries(this.appliedShards.map((shard, index) => [shard, this.appliedSequences[index]])),
      counters: Array.from(this.counters),
      users: [...this.users],
      sessions: [...this.sessions].map(([id, number]) => [id, finite(this.sessionTimes[number * 2]), finite(this.sessionTimes[number * 2 + 1]), this.sessionUsers[number] || null] as const),
      jobTimes: [...this.jobTimes],
      userJobTimes: [...this.userJobTimes].map(([userId, times]) => [userId, [...times]] as const),
      sketches,
    };
  }

  /** A day read back from its file. */
  public static fromFile(file: DayFile, key: string): DayWindow {
    const state = file.state as DayState | undefined;
    if (typeof file.tenant_id !== 'string' || typeof file.window_start !== 'string' || state?.version !== 1) {
      throw new AnalyticsStateError(key, 'not a tenant-day file of version 1 (tenant_id, window_start and state.version 1 expected).');
    }
    const window = new DayWindow(file.tenant_id, Date.parse(file.window_start));
    if (state.counters.length !== window.counters.length) {
      throw new AnalyticsStateError(key, `state.counters has ${state.counters.length} values, expected ${window.counters.length}.`);
    }
    window.counters.set(state.counters);
    for (const [shard, sequence] of Object.entries(state.applied)) window.setApplied(shard, sequence);
    for (const [userId, hours] of state.users) window.users.set(userId, hours);
    for (const [sessionId, login, logout, userId] of state.sessions) {
      const at = window.session(sessionId, userId ?? '');
      window.sessionTimes[at] = login ?? Infinity;
      window.sessionTimes[at + 1] = logout ?? Infinity;
    }
    window.jobTimes.push(...state.jobTimes);
    for (const [userId, times] of state.userJobTimes ?? []) window.userJobTimes.set(userId, [...times]);
    for (const [hour, stored] of Object.entries(state.sketches)) window.durations[Number(hour)] = Durations.load(stored, key);
    return window;
  }
}

/** The day's job submission times, sorted: those without a user, and each user's. */
interface SortedJobTimes {
  readonly withoutUser: Float64Array;
  readonly byUser: Map<string, Float64Array>;
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Whether a sorted array holds a value in [from, to). */
function hasTimeIn(sorted: Float64Array, from: number, to: number): boolean {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < from) low = middle + 1;
    else high = middle;
  }
  return low < sorted.length && sorted[low] < to;
}
