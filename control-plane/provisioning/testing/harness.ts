import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { TierName } from '../../../tenant-tiers/index.js';
import type { Principal } from '../../auth/principal.js';
import type { Database } from '../../db/database.js';
import { createTestDatabase, dropTestDatabase, type Backend } from '../../testing/databases.js';
import { Tenant } from '../../tenant-manager/models/index.js';
import { TenantService } from '../../tenant-manager/tenant-service.js';
import type { ProvisioningDeps, WorkerOptions } from '../options.js';
import type { Providers } from '../providers.js';
import { createLocalProviders, type LocalKubernetes, type LocalOrganizations, type LocalStackDeployer } from '../providers/local/index.js';
import { startProvisioningWorkers, type ProvisioningWorkers } from '../workers.js';
import { FakeIdentity, renderManifests, synthesizeStack, validateManifests } from './fakes.js';

export const PLATFORM: Principal = { kind: 'platform', subject: 'provisioning-tests', role: 'platform-admin' };

export interface Harness {
  readonly db: Database;
  readonly dataDir: string;
  readonly tenants: TenantService;
  readonly identity: FakeIdentity;
  readonly accounts: LocalOrganizations;
  readonly stacks: LocalStackDeployer;
  readonly kubernetes: LocalKubernetes;
  readonly providers: Providers;
  /** Provisioning options with fast local delays; `overrides` replace any of them. */
  deps(overrides?: Partial<ProvisioningDeps>): ProvisioningDeps;
  /** Starts workers (stopped by `close`). */
  workers(overrides?: Partial<WorkerOptions>): ProvisioningWorkers;
  /** Registers a tenant on the enterprise plan, placed on `tier`. */
  register(tier: TierName, name?: string): Promise<string>;
  /** Polls until `check` holds; throws with `what` when it does not within `timeoutMs`. */
  until(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Waits until the tenant has `status` and no unfinished workflow. */
  settled(tenantId: string, status: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(backend: Backend, options: { readonly accountDelayMs?: number; readonly stackDelayMs?: number } = {}): Promise<Harness> {
  const db = await createTestDatabase(backend);
  const dataDir = await mkdtemp(join(tmpdir(), 'saas-kit-provisioning-'));
  const tenants = new TenantService(db);
  await tenants.syncPlans();
  const identity = new FakeIdentity();
  const local = createLocalProviders({
    dataDir,
    identity,
    organizations: { creationDelayMs: options.accountDelayMs ?? 20, closureDelayMs: 0 },
    stacks: { delayMs: options.stackDelayMs ?? 10 },
  });
  const started: ProvisioningWorkers[] = [];
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const deps = (overrides: Partial<ProvisioningDeps> = {}): ProvisioningDeps => ({
    providers: local,
    synthesizeStack,
    renderManifests,
    validateManifests,
    pollIntervalMs: 5,
    backoff: { baseMs: 5, maxMs: 40 },
    maxAttempts: 4,
    leaseMs: 10_000,
    accountRetentionMs: 0,
    ...overrides,
  });
  const harness: Harness = {
    db,
    dataDir,
    tenants,
    identity,
    accounts: local.accounts,
    stacks: local.stacks,
    kubernetes: local.kubernetes,
    providers: local,
    deps,
    workers(overrides = {}) {
      const workers = startProvisioningWorkers({ db, logger, concurrency: 2, idleMs: 5, ...deps(), ...overrides });
      started.push(workers);
      return workers;
    },
    async register(tier, name = `t-${randomUUID().slice(0, 8)}`) {
      const registration = await tenants.register(PLATFORM, randomUUID(), { name, plan: 'enterprise', tierOverride: tier, adminEmail: `admin@${name}.example` });
      return registration.tenant.id;
    },
    async until(what, check, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}.`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async settled(tenantId, status, timeoutMs) {
      await harness.until(
        `tenant ${tenantId} is ${status} with every workflow finished`,
        async () => {
          const tenant = await Tenant.query(db.knex).findById(tenantId);
          const open = await db.knex('workflows').where('tenant_id', tenantId).whereIn('status', ['PENDING', 'RUNNING']).count({ n: '*' });
          return tenant?.status === status && Number(open[0]?.n) === 0;
        },
        timeoutMs,
      );
    },
    async close() {
      await Promise.all(started.map((workers) => workers.stop()));
      await dropTestDatabase(db);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
