import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../testing/databases.js';
import { Tenant } from '../tenant-manager/models/index.js';
import { TenantResource, Workflow, WorkflowStep } from './models/index.js';
import type { AccountProvider, Providers } from './providers.js';
import { reconcile } from './reconciler.js';
import { bindMethods, crashingProviders } from './testing/fakes.js';
import { PLATFORM, startHarness, type Harness } from './testing/harness.js';
import { startProvisioningWorkers } from './workers.js';

const emailOf = (name: string) => `aws+${name}@tenants.saas-tenancy-kit.invalid`;
/** Long enough that every offboarding below reaches `settle-accounts` while the creation is IN_PROGRESS. */
const CREATION_MS = 1500;
const RETENTION_MS = 300;
const OFFBOARDING = ['suspend', 'export', 'remove-kubernetes', 'remove-infrastructure', 'remove-identity', 'settle-accounts', 'close-account', 'completion'];

/**
 * Offboarding a tenant whose account creation is in flight: Organizations finishes the creation whatever
 * became of the cancelled workflow, and offboarding must find the account and close it, not orphan it.
 */
describe.each(BACKENDS)('offboarding with an account creation in flight on %s', (backend) => {
  let h: Harness;
  /** When each account was closed (Date.now()), by id. */
  const closedAt = new Map<string, number>();
  let providers: Providers;
  beforeAll(async () => {
    h = await startHarness(backend, { accountDelayMs: CREATION_MS });
    const accounts: AccountProvider = {
      ...bindMethods(h.providers.accounts),
      async closeAccount(accountId) {
        await h.providers.accounts.closeAccount(accountId);
        closedAt.set(accountId, Date.now());
      },
    };
    providers = { ...h.providers, accounts };
  });
  afterAll(async () => {
    await h?.close();
  });

  const stepsOf = async (tenantId: string, kind: Workflow['kind']) => {
    const workflow = await Workflow.query(h.db.knex).where({ tenant_id: tenantId, kind }).first();
    const steps = await WorkflowStep.query(h.db.knex).where('workflow_id', workflow?.id ?? '').orderBy('position');
    return { workflow, steps, step: (name: string) => steps.find((s) => s.name === name) };
  };

  /** Waits until the tenant's account step has started its CreateAccount (a request id, no account yet). */
  async function creationInFlight(tenantId: string): Promise<string> {
    let requestId = '';
    await h.until('the CreateAccount is in flight', async () => {
      const step = await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'account' }).first();
      requestId = typeof step?.state.requestId === 'string' ? step.state.requestId : '';
      return requestId !== '';
    });
    expect(await h.accounts.accountCreationStatus(requestId)).toEqual({ state: 'IN_PROGRESS' });
    return requestId;
  }

  /** The tenant's account, created after the cancel: recorded by `settle-accounts`, closed after the retention, no drift. */
  async function expectClosedAfterRetention(tenantId: string, requestId: unknown) {
    const name = (await Tenant.query(h.db.knex).findById(tenantId))?.name ?? '';
    const accounts = (await h.accounts.accounts()).filter((a) => a.email === emailOf(name));
    expect(accounts).toHaveLength(1);
    const accountId = accounts[0]?.id ?? '';
    expect(await h.accounts.accountState(accountId)).not.toBe('ACTIVE');

    const offboarding = await stepsOf(tenantId, 'offboard');
    expect(offboarding.steps.map((s) => s.name)).toEqual(OFFBOARDING);
    expect(offboarding.step('settle-accounts')?.state.settled).toEqual([expect.objectContaining({ requestId, accountId })]);
    expect(offboarding.step('close-account')?.state.closed).toEqual([accountId]);
    expect(closedAt.get(accountId)).toBeGreaterThanOrEqual(Date.parse(offboarding.step('close-account')?.state.closeAfter as string));
    const recorded = await TenantResource.query(h.db.knex).findById([tenantId, 'account', accountId]);
    expect(recorded?.removedAt).not.toBeNull();
    expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);
  }

  /** A pool tenant, ACTIVE, with its tier change to silo asked for (run by whichever workers are up). */
  async function poolMovingToSilo(name?: string): Promise<string> {
    const workers = h.workers({ providers });
    const tenantId = await h.register('pool', name);
    await h.settled(tenantId, 'ACTIVE');
    await workers.stop();
    await h.tenants.update(PLATFORM, tenantId, { tierOverride: 'silo' });
    return tenantId;
  }

  // The lifecycle lets no PROVISIONING tenant be offboarded: a silo onboarding is offboarded once it FAILED,
  // here because DescribeCreateAccountStatus kept failing while Organizations went on creating the account.
  it('offboards a silo tenant whose onboarding FAILED while its CreateAccount was IN_PROGRESS: the account is recorded once created and closed after the retention', async () => {
    const unanswered: Providers = { ...providers, accounts: { ...bindMethods(providers.accounts), accountCreationStatus: () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' })) } };
    const failing = h.workers({ providers: unanswered, maxAttempts: 2 });
    const tenantId = await h.register('silo');
    await h.settled(tenantId, 'FAILED');
    await failing.stop();
    const requestId = await creationInFlight(tenantId);

    await h.tenants.requestOffboarding(PLATFORM, tenantId);
    const workers = h.workers({ providers, accountRetentionMs: RETENTION_MS });
    await h.settled(tenantId, 'OFFBOARDED');
    await workers.stop();

    const onboarding = await stepsOf(tenantId, 'onboard');
    expect(onboarding.workflow?.status).toBe('CANCELLED');
    // The cancelled step never learnt the account: offboarding did.
    expect(onboarding.step('account')?.state).toEqual({ email: emailOf((await Tenant.query(h.db.knex).findById(tenantId))?.name ?? ''), requestId });
    await expectClosedAfterRetention(tenantId, requestId);
  });

  it('offboards a pool tenant in the middle of its tier change to silo: the account is recorded and closed the same way', async () => {
    const tenantId = await poolMovingToSilo();
    const workers = h.workers({ providers, accountRetentionMs: RETENTION_MS });
    const requestId = await creationInFlight(tenantId);
    await h.tenants.requestOffboarding(PLATFORM, tenantId);
    await h.settled(tenantId, 'OFFBOARDED');
    await workers.stop();

    expect((await stepsOf(tenantId, 'change_tier')).workflow?.status).toBe('CANCELLED');
    expect((await Tenant.query(h.db.knex).findById(tenantId))?.tier).toBe('pool');
    await expectClosedAfterRetention(tenantId, requestId);
  });

  it('offboards a tenant whose CreateAccount FAILS after the cancel: waits for the outcome, closes nothing', async () => {
    const name = `failing-${Date.now().toString(36)}`;
    h.accounts.failCreationsFor(emailOf(name), 'ACCOUNT_LIMIT_EXCEEDED');
    const tenantId = await poolMovingToSilo(name);
    const workers = h.workers({ providers, accountRetentionMs: RETENTION_MS });
    const requestId = await creationInFlight(tenantId);
    await h.tenants.requestOffboarding(PLATFORM, tenantId);
    await h.until('offboarding polls the creation in flight', async () => {
      const settle = (await stepsOf(tenantId, 'offboard')).step('settle-accounts');
      return (settle?.state.polling as { requestId?: string } | undefined)?.requestId === requestId;
    });
    expect((await Tenant.query(h.db.knex).findById(tenantId))?.status).toBe('OFFBOARDING');
    await h.settled(tenantId, 'OFFBOARDED');
    await workers.stop();

    expect(await h.accounts.accountCreationStatus(requestId)).toEqual({ state: 'FAILED', reason: 'ACCOUNT_LIMIT_EXCEEDED' });
    expect((await h.accounts.accounts()).filter((a) => a.email === emailOf(name))).toEqual([]);
    const offboarding = await stepsOf(tenantId, 'offboard');
    expect(offboarding.steps.map((s) => s.name)).toEqual(OFFBOARDING);
    expect(offboarding.step('settle-accounts')?.state.settled).toEqual([expect.objectContaining({ requestId, failed: 'ACCOUNT_LIMIT_EXCEEDED' })]);
    expect(offboarding.step('close-account')?.state.closed).toEqual([]);
    expect(await TenantResource.query(h.db.knex).where({ tenant_id: tenantId, kind: 'account' })).toEqual([]);
    expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);
  });

  it('finds, by the account email, a creation whose worker died before recording its request id, without starting another', async () => {
    const tenantId = await poolMovingToSilo();
    // The tier change's first outside call is CreateAccount: the worker dies as it returns.
    const crashing = crashingProviders(h.providers, 1);
    // Not stopped: it is dead, hanging forever in the call it never returned from.
    startProvisioningWorkers({ db: h.db, logger: pino({ level: 'silent' }), concurrency: 1, idleMs: 5, workerId: 'doomed', ...h.deps({ providers: crashing.providers, leaseMs: 300 }) });
    expect(await crashing.crashed).toBe('accounts.startAccountCreation');
    const account = await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'account' }).first();
    expect(account?.status).toBe('RUNNING');
    expect(account?.state).toEqual({});
    await h.tenants.requestOffboarding(PLATFORM, tenantId);

    const survivor = h.workers({ providers, accountRetentionMs: RETENTION_MS, leaseMs: 300 });
    await h.settled(tenantId, 'OFFBOARDED');
    await survivor.stop();

    const name = (await Tenant.query(h.db.knex).findById(tenantId))?.name ?? '';
    const requests = (await h.accounts.creationRequests()).filter((r) => r.email === emailOf(name));
    expect(requests).toHaveLength(1);
    // Found in flight (its request id), or already created (the account, no request id).
    await expectClosedAfterRetention(tenantId, expect.toBeOneOf([requests[0]?.id, null]));
  });
});
