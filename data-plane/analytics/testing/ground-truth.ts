// Test support: the aggregates computed directly from the events, the plain way (no sketch, no state),
// to hold the consumer's files against. Written apart from window.ts on purpose: it shares no code with it.
import type { KitEvent } from '../../events/envelope.js';

export interface ExpectedWindow {
  registrations: number;
  logins: number;
  active_users: number;
  sessions: number;
  idle_sessions: number;
  uploads: number;
  upload_bytes: number;
  datasets_created: number;
  datasets_deleted: number;
  dataset_bytes_net: number;
  jobs_submitted: number;
  jobs_started: number;
  jobs_succeeded: number;
  jobs_failed: number;
  jobs_cancelled: number;
  vcpu_ms: number;
  job_bytes_read: number;
  job_bytes_written: number;
  /** Exact durations of the jobs that ended in the window, sorted. */
  durations: number[];
}

export interface ExpectedDay extends ExpectedWindow {
  hours: Map<number, ExpectedWindow>;
}

const empty = (): ExpectedWindow => ({
  registrations: 0,
  logins: 0,
  active_users: 0,
  sessions: 0,
  idle_sessions: 0,
  uploads: 0,
  upload_bytes: 0,
  datasets_created: 0,
  datasets_deleted: 0,
  dataset_bytes_net: 0,
  jobs_submitted: 0,
  jobs_started: 0,
  jobs_succeeded: 0,
  jobs_failed: 0,
  jobs_cancelled: 0,
  vcpu_ms: 0,
  job_bytes_read: 0,
  job_bytes_written: 0,
  durations: [],
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Exact value at a quantile, at the rank DDSketch uses: floor(q x (n - 1)). */
export function exactQuantile(sorted: readonly number[], quantile: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.floor(quantile * (sorted.length - 1))] ?? null;
}

/** Expected day files by `<tenant>/<YYYY-MM-DD>`, from events given once each (no repeats). */
export function expectedDays(events: Iterable<KitEvent>): Map<string, ExpectedDay> {
  const byTenantDay = new Map<string, KitEvent[]>();
  for (const event of events) {
    const key = `${event.subject}/${event.time.slice(0, 10)}`;
    const list = byTenantDay.get(key) ?? [];
    list.push(event);
    byTenantDay.set(key, list);
  }
  const days = new Map<string, ExpectedDay>();
  for (const [key, list] of byTenantDay) {
    const dayStart = Date.parse(`${key.slice(-10)}T00:00:00.000Z`);
    const day: ExpectedDay = { ...window(list, dayStart, dayStart + DAY), hours: new Map() };
    for (let hour = 0; hour < 24; hour += 1) {
      const start = dayStart + hour * HOUR;
      const inHour = list.filter((event) => Date.parse(event.time) >= start && Date.parse(event.time) < start + HOUR);
      if (inHour.length === 0) continue;
      // Hours whose events count in nothing (only a logout, a user.created, ...) are left out, as the files do.
      const hourWindow = window(list, start, start + HOUR);
      if (Object.values(hourWindow).some((value) => (Array.isArray(value) ? value.length > 0 : value !== 0))) day.hours.set(hour, hourWindow);
    }
    days.set(key, day);
  }
  return days;
}

/** One window's numbers; `all` is the whole day of the tenant (sessions look at logouts and jobs of the day). */
function window(all: readonly KitEvent[], start: number, end: number): ExpectedWindow {
  const result = empty();
  const at = (event: KitEvent): number => Date.parse(event.time);
  const inWindow = all.filter((event) => at(event) >= start && at(event) < end);
  const users = new Set<string>();
  const logins = new Map<string, number>();
  for (const event of inWindow) {
    switch (event.type) {
      case 'tenant.registered':
        result.registrations += 1;
        break;
      case 'user.login':
        result.logins += 1;
        users.add(event.data.userId);
        break;
      case 'datalake.object.uploaded':
        result.uploads += 1;
        result.upload_bytes += event.data.bytes;
        break;
      case 'datalake.dataset.created':
        result.datasets_created += 1;
        result.dataset_bytes_net += event.data.sizeBytes;
        break;
      case 'datalake.dataset.deleted':
        result.datasets_deleted += 1;
        result.dataset_bytes_net -= event.data.sizeBytes;
        break;
      case 'job.submitted':
        result.jobs_submitted += 1;
        break;
      case 'job.started':
        result.jobs_started += 1;
        break;
      case 'job.succeeded':
      case 'job.failed':
      case 'job.cancelled':
        if (event.type === 'job.succeeded') result.jobs_succeeded += 1;
        else if (event.type === 'job.failed') result.jobs_failed += 1;
        else result.jobs_cancelled += 1;
        result.vcpu_ms += event.data.vcpuMs;
        result.job_bytes_read += event.data.bytesRead;
        result.job_bytes_written += event.data.bytesWritten;
        result.durations.push(event.data.durationMs);
        break;
      default:
        break;
    }
  }
  result.active_users = users.size;
  // Sessions of the whole day (their login may be in this window, their logout anywhere in the day).
  const sessionUsers = new Map<string, string>();
  for (const event of all) {
    if (event.type === 'user.login') {
      logins.set(event.data.sessionId, Math.min(logins.get(event.data.sessionId) ?? Infinity, at(event)));
      sessionUsers.set(event.data.sessionId, event.data.userId);
    }
  }
  const dayStart = start - (start % DAY);
  const dayEnd = dayStart + DAY;
  for (const [sessionId, login] of logins) {
    if (login < start || login >= end) continue;
    result.sessions += 1;
    const logouts = all.filter((event) => event.type === 'user.logout' && event.data.sessionId === sessionId).map(at);
    const logout = Math.min(Infinity, ...logouts);
    const sessionEnd = logout >= login && logout < Math.min(end, dayEnd) ? logout : end;
    // A job of the session's user, or one submitted without a user, ends its idleness.
    const user = sessionUsers.get(sessionId);
    const hadJob = all.some((event) => event.type === 'job.submitted' && (event.data.userId === null || event.data.userId === user) && at(event) >= login && at(event) < sessionEnd);
    if (!hadJob) result.idle_sessions += 1;
  }
  result.durations.sort((a, b) => a - b);
  return result;
}
