import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TierName } from '../../tenant-tiers/index.js';
import { BACKENDS } from '../testing/databases.js';
import { Tenant, TenantStatusChange } from '../tenant-manager/models/index.js';
import { WorkflowEngine } from './engine.js';
import { Workflow, WorkflowStep } from './models/index.js';
import type { Providers } from './providers.js';
import { reconcile } from './reconciler.js';
import { ProvisioningService } from './service.js';
import { bindMethods, countingProviders, crashingProviders } from './testing/fakes.js';
import { PLATFORM, startHarness, type Harness } from './testing/harness.js';
import { startProvisioningWorkers } from './workers.js';

const silent = pino({ level: 'silent' });
const emailOf = (name: string) => `aws+${name}@tenants.saas-tenancy-kit.invalid`;

describe.each(BACKENDS)('durable provisioning on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    // No delays: every status call answers at once, so a silo onboarding makes the same calls each run.
    h = await startHarness(backend, { accountDelayMs: 0, stackDelayMs: 0 });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function nameOf(tenantId: string): Promise<string> {
    return (await Tenant.query(h.db.knex).findById(tenantId))?.name ?? '';
  }

  /** Every outside resource of the tenant was made exactly once. */
  async function expectNoDuplicates(tenantId: string, tier: TierName) {
    const name = await nameOf(tenantId);
    expect(h.identity.creations.get(name)).toBe(1);
    const steps = await WorkflowStep.query(h.db.knex).where('tenant_id', tenantId);
    const accountId = steps.find((s) => s.name === 'account')?.state.accountId as string | undefined;
    expect(h.stacks.creationsOf({ stackName: `saas-kit-tenant-${name}`, region: 'us-east-1', ...(accountId ? { accountId } : {}) })).toBe(1);
    const requests = (await h.accounts.creationRequests()).filter((r) => r.email === emailOf(name));
    const accounts = (await h.accounts.accounts()).filter((a) => a.email === emailOf(name));
    expect(requests).toHaveLength(tier === 'silo' ? 1 : 0);
    expect(accounts).toHaveLength(tier === 'silo' ? 1 : 0);
  }

  describe('crash injection', () => {
    // A clean silo onboarding: identity, CreateAccount, its status, the OU move, deploy, its status, apply.
    const OUTSIDE_CALLS = 7;

    it('makes the same seven outside calls on a clean silo onboarding', async () => {
      const counting = countingProviders(h.providers);
      const workers = h.workers({ providers: counting.providers });
      const tenantId = await h.register('silo');
      await h.settled(tenantId, 'ACTIVE');
      await workers.stop();
      expect(counting.calls).toHaveLength(OUTSIDE_CALLS);
      await expectNoDuplicates(tenantId, 'silo');
    });

    it.each(Array.from({ length: OUTSIDE_CALLS }, (_, i) => i + 1))('resumes without duplicates when the worker dies after outside call %i', async (n) => {
      const crashing = crashingProviders(h.providers, n);
      // Not stopped: it is dead, hanging forever in the call it never returned from.
      startProvisioningWorkers({ db: h.db, logger: silent, concurrency: 1, idleMs: 5, workerId: `doomed-${n}`, ...h.deps({ providers: crashing.providers, leaseMs: 300 }) });
      const tenantId = await h.register('silo');
      const lastCall = await crashing.crashed;
      const step = await WorkflowStep.query(h.db.knex).where('tenant_id', tenantId).whereNotNull('locked_by').first();
      expect(step?.lockedBy).toMatch(new RegExp(`^doomed-${n}`));

      const survivor = h.workers({ leaseMs: 300, workerId: `survivor-${n}` });
      await h.settled(tenantId, 'ACTIVE');
      await survivor.stop();
      expect(lastCall).toMatch(/^(identity|accounts|stacks|kubernetes)\./);
      await expectNoDuplicates(tenantId, 'silo');
      expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);
    });

    it('resumes a step whose worker claimed it and vanished before any outside call', async () => {
      const tenantId = await h.register('bridge');
      const abandoned = await new WorkflowEngine(h.db, h.deps({ leaseMs: 200 })).claim('vanished');
      expect(abandoned?.name).toBe('identity');
      const survivor = h.workers({ leaseMs: 200 });
      await h.settled(tenantId, 'ACTIVE');
      await survivor.stop();
      await expectNoDuplicates(tenantId, 'bridge');
    });
  });

  describe('failures and retries', () => {
    it('ends a silo whose CreateAccount fails FAILED with the reason, and a retry succeeds', async () => {
      const workers = h.workers();
      const name = `limit-${Date.now().toString(36)}`;
      h.accounts.failCreationsFor(emailOf(name), 'ACCOUNT_LIMIT_EXCEEDED');
      const tenantId = await h.register('silo', name);
      await h.settled(tenantId, 'FAILED');

      const workflow = await Workflow.query(h.db.knex).where('tenant_id', tenantId).first();
      expect(workflow?.status).toBe('FAILED');
      expect(workflow?.error).toMatch(/account.*ACCOUNT_LIMIT_EXCEEDED/);
      const history = await TenantStatusChange.query(h.db.knex).where('tenant_id', tenantId).orderBy('id');
      expect(history.map((c) => c.toStatus)).toEqual(['PENDING', 'PROVISIONING', 'FAILED']);
      expect(history.at(-1)?.reason).toMatch(/ACCOUNT_LIMIT_EXCEEDED/);

      h.accounts.stopFailing(emailOf(name));
      await new ProvisioningService(h.db).retry(PLATFORM, tenantId);
      await h.settled(tenantId, 'ACTIVE');
      await workers.stop();
      const after = await TenantStatusChange.query(h.db.knex).where('tenant_id', tenantId).orderBy('id');
      expect(after.map((c) => c.toStatus)).toEqual(['PENDING', 'PROVISIONING', 'FAILED', 'PROVISIONING', 'ACTIVE']);
      // The failed request and the one that succeeded; one account.
      expect((await h.accounts.creationRequests()).filter((r) => r.email === emailOf(name))).toHaveLength(2);
      expect((await h.accounts.accounts()).filter((a) => a.email === emailOf(name))).toHaveLength(1);
    });

    it('retries a throttled call with backoff and counts the attempts', async () => {
      let throttles = 2;
      const throttled: Providers = {
        ...h.providers,
        stacks: {
          ...bindMethods(h.providers.stacks),
          startDeployment: (deployment) => {
            if (throttles > 0) {
              throttles -= 1;
              return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
            }
            return h.providers.stacks.startDeployment(deployment);
          },
        },
      };
      const workers = h.workers({ providers: throttled });
      const tenantId = await h.register('pool');
      await h.settled(tenantId, 'ACTIVE');
      await workers.stop();
      const step = await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'infrastructure' }).first();
      expect(step).toMatchObject({ status: 'SUCCEEDED', attempts: 2, lastError: null });
    });

    it('gives up after maxAttempts and says why', async () => {
      const broken: Providers = { ...h.providers, kubernetes: { ...bindMethods(h.providers.kubernetes), apply: () => Promise.reject(new Error('connection refused')) } };
      const workers = h.workers({ providers: broken, maxAttempts: 3 });
      const tenantId = await h.register('pool');
      await h.settled(tenantId, 'FAILED');
      await workers.stop();
      const step = await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'kubernetes' }).first();
      expect(step).toMatchObject({ status: 'FAILED', attempts: 3 });
      expect(step?.lastError).toMatch(/gave up after 3 attempts: Error: connection refused/);
    });

    it('draws backoff delays with full jitter under a capped exponential ceiling', () => {
      const ceiling = new WorkflowEngine(h.db, h.deps({ backoff: { baseMs: 100, maxMs: 1000 }, random: () => 0.999999 }));
      expect([1, 2, 3, 4, 5, 6].map((attempt) => ceiling.backoffMs(attempt))).toEqual([99, 199, 399, 799, 999, 999]);
      const floor = new WorkflowEngine(h.db, h.deps({ backoff: { baseMs: 100, maxMs: 1000 }, random: () => 0 }));
      expect(floor.backoffMs(5)).toBe(0);
    });
  });
});
