/**
 * A synthetic telemetry workload: tenants whose users log in, upload, create datasets and run jobs,
 * as valid catalog events in (nearly) time order. Seeded, so a run can be repeated; generated lazily,
 * so millions of events take no memory. For benchmarks, demos and ground-truth tests.
 */
import { AnalyticsConfigError } from './errors.js';
import { dataSchemaOf, type EventType } from '../events/catalog.js';
import type { KitEvent } from '../events/envelope.js';

export interface SyntheticTelemetryOptions {
  /** How many tenants (each registers with its first event). */
  readonly tenants: number;
  /**
   * Seed of the pseudo-random sequence: the same seed gives the same events.
   * @default 1
   */
  readonly seed?: number;
  /**
   * Time of the first event.
   * @default 2024-06-01T00:00:00.000Z
   */
  readonly start?: Date;
  /**
   * Mean time between two sessions of the whole workload: sets how many days the events span.
   * @default 2_000 (about 43,000 sessions, some 300,000 events, a day)
   */
  readonly meanSessionGapMs?: number;
  /**
   * Users per tenant.
   * @default 8
   */
  readonly usersPerTenant?: number;
}

const SOURCE = {
  tenant: 'control-plane/tenant-manager',
  auth: 'control-plane/auth',
  jobs: 'control-plane/job-manager',
  executor: 'data-plane/job-executor',
} as const;

/** mulberry32: small, fast, and good enough for a workload. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function hex(value: number, digits: number): string {
  return Math.floor(value).toString(16).padStart(digits, '0').slice(-digits);
}

interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly users: readonly string[];
  registered: boolean;
  readonly datasets: { id: string; name: string; sizeBytes: number }[];
}

/** Events of the workload, in the order a producer would emit them (times increase, up to a few minutes within a session). */
export function* syntheticTelemetry(options: SyntheticTelemetryOptions): Generator<KitEvent> {
  if (!Number.isInteger(options.tenants) || options.tenants < 1) throw new AnalyticsConfigError(`tenants must be a whole number >= 1; received ${String(options.tenants)}.`);
  const random = prng(options.seed ?? 1);
  const uuid = (): string => {
    const a = random() * 2 ** 32;
    const b = random() * 2 ** 32;
    const c = random() * 2 ** 32;
    const d = random() * 2 ** 32;
    return `${hex(a, 8)}-${hex(b, 4)}-4${hex(b / 65536, 3)}-${hex(8 + ((c / 2 ** 30) & 3), 1)}${hex(c, 3)}-${hex(d, 8)}${hex(c / 4096, 4)}`;
  };
  const usersPerTenant = options.usersPerTenant ?? 8;
  const gap = options.meanSessionGapMs ?? 2_000;
  const tenants: Tenant[] = Array.from({ length: options.tenants }, (_, index) => ({
    id: uuid(),
    name: `tenant-${index}`,
    users: Array.from({ length: usersPerTenant }, uuid),
    registered: false,
    datasets: [],
  }));
  let clock = (options.start ?? new Date('2024-06-01T00:00:00.000Z')).getTime();
  const event = <T extends EventType>(type: T, source: string, tenant: Tenant, timeMs: number, data: unknown): KitEvent => {
    const envelope = {
      specversion: '1.0',
      id: uuid(),
      source,
      type,
      time: new Date(timeMs).toISOString(),
      subject: tenant.id,
      dataschema: dataSchemaOf(type),
      datacontenttype: 'application/json',
      data,
    };
    return envelope as unknown as KitEvent;
  };
  for (;;) {
    clock += Math.floor(-Math.log(1 - random()) * gap);
    // Some tenants are far busier than others, as in any SaaS.
    const tenant = tenants[Math.floor(random() ** 2 * tenants.length)];
    let time = clock;
    const step = (): number => (time += 1_000 + Math.floor(random() * 60_000));
    if (!tenant.registered) {
      tenant.registered = true;
      yield event('tenant.registered', SOURCE.tenant, tenant, time, { name: tenant.name, plan: 'standard', tier: 'pool', reasons: ['plan standard defaults to pool'] });
    }
    const userId = tenant.users[Math.floor(random() * tenant.users.length)];
    const sessionId = uuid();
    yield event('user.login', SOURCE.auth, tenant, step(), { userId, sessionId });
    const uploads = Math.floor(random() * 4);
    for (let index = 0; index < uploads; index += 1) {
      yield event('datalake.object.uploaded', SOURCE.jobs, tenant, step(), { datasetId: tenant.datasets[0]?.id, key: `raw/${hex(random() * 2 ** 32, 8)}.csv`, bytes: Math.floor(random() * 50_000_000) });
    }
    if (random() < 0.1) {
      const dataset = { id: uuid(), name: `ds-${hex(random() * 2 ** 32, 8)}`, sizeBytes: Math.floor(random() * 2 ** 32) };
      tenant.datasets.push(dataset);
      yield event('datalake.dataset.created', SOURCE.jobs, tenant, step(), { datasetId: dataset.id, name: dataset.name, sizeBytes: dataset.sizeBytes });
    } else if (random() < 0.03 && tenant.datasets.length > 1) {
      const dataset = tenant.datasets.pop() as Tenant['datasets'][number];
      yield event('datalake.dataset.deleted', SOURCE.jobs, tenant, step(), { datasetId: dataset.id, name: dataset.name, sizeBytes: dataset.sizeBytes });
    }
    const jobs = random() < 0.6 ? 1 + Math.floor(random() * 3) : 0;
    for (let index = 0; index < jobs; index += 1) {
      const jobId = uuid();
      const vcpu = [0.5, 1, 2, 4][Math.floor(random() * 4)];
      yield event('job.submitted', SOURCE.jobs, tenant, step(), { jobId, steps: ['load', 'transform', 'persist'], inputDatasetId: tenant.datasets[0]?.id, requestedVcpu: vcpu, userId });
      yield event('job.started', SOURCE.executor, tenant, step(), { jobId, queuedMs: Math.floor(random() * 5_000) });
      const durationMs = Math.floor(1_000 + -Math.log(1 - random()) * 90_000);
      const usage = { jobId, durationMs, vcpuMs: Math.round(durationMs * vcpu), bytesRead: Math.floor(random() * 1e9), bytesWritten: Math.floor(random() * 1e8) };
      const outcome = random();
      if (outcome < 0.8) yield event('job.succeeded', SOURCE.executor, tenant, step(), usage);
      else if (outcome < 0.95) yield event('job.failed', SOURCE.executor, tenant, step(), { ...usage, failedStep: 'transform', reason: 'column order_id missing' });
      else yield event('job.cancelled', SOURCE.executor, tenant, step(), usage);
    }
    if (random() < 0.9) yield event('user.logout', SOURCE.auth, tenant, step(), { userId, sessionId });
  }
}
