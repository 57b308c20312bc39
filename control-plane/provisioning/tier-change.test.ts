import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TierName } from '../../tenant-tiers/index.js';
import { BACKENDS } from '../testing/databases.js';
import { OutboxEvent, Tenant, TenantStatusChange, TierChangeRequest } from '../tenant-manager/models/index.js';
import { Workflow, WorkflowStep } from './models/index.js';
import { reconcile } from './reconciler.js';
import { countingProviders } from './testing/fakes.js';
import { PLATFORM, startHarness, type Harness } from './testing/harness.js';
import type { ProvisioningWorkers } from './workers.js';

describe.each(BACKENDS)('tier changes and offboarding on %s', (backend) => {
  let h: Harness;
  let workers: ProvisioningWorkers;
  let counting: ReturnType<typeof countingProviders>;
  beforeAll(async () => {
    h = await startHarness(backend);
    counting = countingProviders(h.providers);
    workers = h.workers({ providers: counting.providers, exportDir: join(h.dataDir, 'exports') });
  });
  afterAll(async () => {
    await workers?.stop();
    await h?.close();
  });

  async function tenantOf(id: string) {
    const tenant = await Tenant.query(h.db.knex).findById(id);
    if (!tenant) throw new Error(`tenant ${id} is gone`);
    return tenant;
  }

  async function changeTier(tenantId: string, to: TierName): Promise<string[]> {
    const from = counting.calls.length;
    const change = await h.tenants.update(PLATFORM, tenantId, { tierOverride: to });
    expect(change.tierChange).toMatchObject({ to, status: 'REQUESTED' });
    await h.until(`the tenant runs on ${to}`, async () => {
      const workflow = await Workflow.query(h.db.knex).where({ tenant_id: tenantId, kind: 'change_tier' }).orderBy('seq', 'desc').first();
      if (workflow?.status === 'FAILED') throw new Error(`tier change failed: ${workflow.error ?? ''}`);
      return workflow?.status === 'SUCCEEDED';
    });
    expect((await TierChangeRequest.query(h.db.knex).findById(change.tierChange?.id ?? ''))?.status).toBe('DONE');
    return counting.calls.slice(from);
  }

  const stackFile = (name: string, _tier: TierName, accountId?: string) => h.stacks.fileOf({ stackName: `saas-kit-tenant-${name}`, region: 'us-east-1', ...(accountId ? { accountId } : {}) });

  it('moves a tenant pool -> bridge -> silo -> pool while it stays ACTIVE, with no drift after each move', async () => {
    const tenantId = await h.register('pool');
    await h.settled(tenantId, 'ACTIVE');
    const { name } = await tenantOf(tenantId);
    const ref = (tier: TierName) => ({ tenantId, tenantName: name, tier });
    const shared = { region: 'us-east-1' };

    const toBridge = await changeTier(tenantId, 'bridge');
    expect((await tenantOf(tenantId)).tier).toBe('bridge');
    // Pool and bridge share the platform account and cluster: the tenant's stack gains its node group in
    // place (an update, nothing deleted) and its objects are applied again with bridge placement.
    expect(toBridge).not.toContain('stacks.startDeletion');
    expect(toBridge).not.toContain('kubernetes.remove');
    expect(JSON.stringify(JSON.parse(readFileSync(stackFile(name, 'bridge'), 'utf8')))).toContain('AWS::EKS::Nodegroup');
    expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);

    const toSilo = await changeTier(tenantId, 'silo');
    // The account first, in the tenants OU, then the stack in it.
    expect(toSilo[0]).toBe('accounts.startAccountCreation');
    expect(toSilo.indexOf('accounts.moveToTenantsOu')).toBeLessThan(toSilo.indexOf('stacks.startDeployment'));
    // The new placement serves before the old goes.
    expect(toSilo.indexOf('kubernetes.apply')).toBeLessThan(toSilo.indexOf('kubernetes.remove'));
    expect(toSilo.lastIndexOf('stacks.deploymentStatus')).toBeLessThan(toSilo.indexOf('stacks.startDeletion'));
    const steps = await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'account' });
    const accountId = steps[0]?.state.accountId as string;
    expect(await h.accounts.accountState(accountId)).toBe('ACTIVE');
    expect(existsSync(stackFile(name, 'silo', accountId))).toBe(true);
    expect(existsSync(stackFile(name, 'bridge'))).toBe(false);
    const own = { accountId, region: 'us-east-1' };
    expect(await h.kubernetes.listApplied(ref('silo'), own)).not.toEqual([]);
    expect(await h.kubernetes.listApplied(ref('bridge'), shared)).toEqual([]);
    expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);

    const toPool = await changeTier(tenantId, 'pool');
    expect(toPool).toContain('accounts.closeAccount');
    expect(await h.accounts.accountState(accountId)).not.toBe('ACTIVE');
    expect(existsSync(stackFile(name, 'silo', accountId))).toBe(false);
    expect(existsSync(stackFile(name, 'pool'))).toBe(true);
    expect(await h.kubernetes.listApplied(ref('silo'), own)).toEqual([]);
    expect(await h.kubernetes.listApplied(ref('pool'), shared)).toEqual(expect.arrayContaining([`Deployment/${name}/job-executor`]));
    expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);

    const history = await TenantStatusChange.query(h.db.knex).where('tenant_id', tenantId).orderBy('id');
    expect(history.map((c) => c.toStatus)).toEqual(['PENDING', 'PROVISIONING', 'ACTIVE']);
    const moves = await OutboxEvent.query(h.db.knex).where({ tenant_id: tenantId, type: 'tenant.tier_changed' }).orderBy('id');
    expect(moves.map((e) => e.event.data)).toEqual([
      { from: 'pool', to: 'bridge' },
      { from: 'bridge', to: 'silo' },
      { from: 'silo', to: 'pool' },
    ]);
    expect(moves[0]?.event.source).toBe('control-plane/provisioning');
  });

  it.each(['pool', 'bridge', 'silo'] as const)('offboards a %s tenant: suspends, exports its manifest, removes everything, OFFBOARDED with no drift', async (tier) => {
    const tenantId = await h.register(tier);
    await h.settled(tenantId, 'ACTIVE');
    const { name } = await tenantOf(tenantId);
    const accountId = (await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'account' }).first())?.state.accountId as string | undefined;

    await h.tenants.requestOffboarding(PLATFORM, tenantId);
    await h.settled(tenantId, 'OFFBOARDED');

    const offboarding = await Workflow.query(h.db.knex).where({ tenant_id: tenantId, kind: 'offboard' }).first();
    const steps = await WorkflowStep.query(h.db.knex).where('workflow_id', offboarding?.id ?? '').orderBy('position');
    expect(steps.map((s) => s.name)).toEqual(['suspend', 'export', 'remove-kubernetes', 'remove-infrastructure', 'remove-identity', ...(accountId ? ['settle-accounts', 'close-account'] : []), 'completion']);
    const manifest = steps.find((s) => s.name === 'export')?.state.manifest as { data: { s3Prefix: string }; stacks: { stackName: string }[]; kubernetes: { objects: string[] }[]; accounts: { accountId: string }[] };
    expect(manifest.data.s3Prefix).toBe(`tenants/${tenantId}/`);
    expect(manifest.stacks.map((s) => s.stackName)).toEqual([`saas-kit-tenant-${name}`]);
    expect(manifest.kubernetes[0]?.objects).toContain(`Deployment/${name}/job-executor`);
    expect(manifest.accounts.map((a) => a.accountId)).toEqual(accountId ? [accountId] : []);
    expect(JSON.parse(readFileSync(join(h.dataDir, 'exports', `${name}.json`), 'utf8'))).toEqual(manifest);

    expect(existsSync(stackFile(name, tier, accountId))).toBe(false);
    expect(await h.kubernetes.listApplied({ tenantId, tenantName: name, tier }, { region: 'us-east-1', ...(accountId ? { accountId } : {}) })).toEqual([]);
    expect(h.identity.groups.has(name)).toBe(false);
    if (accountId) expect(await h.accounts.accountState(accountId)).not.toBe('ACTIVE');

    const history = await TenantStatusChange.query(h.db.knex).where('tenant_id', tenantId).orderBy('id');
    expect(history.map((c) => c.toStatus)).toEqual(['PENDING', 'PROVISIONING', 'ACTIVE', 'OFFBOARDING', 'OFFBOARDED']);
    const offboarded = await OutboxEvent.query(h.db.knex).where({ tenant_id: tenantId, type: 'tenant.offboarded' });
    expect(offboarded).toHaveLength(1);
    expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);
  });

  it('suspends the workloads before exporting: every Deployment at 0 replicas', async () => {
    const applied: { kind: string; spec?: { replicas?: number } }[][] = [];
    const watching = h.workers({
      providers: { ...h.providers, kubernetes: { ...h.providers.kubernetes, apply: async (tenant, cluster, objects) => { applied.push(objects as never); await h.providers.kubernetes.apply(tenant, cluster, objects); }, remove: (t, c) => h.providers.kubernetes.remove(t, c), listApplied: (t, c) => h.providers.kubernetes.listApplied(t, c) } },
    });
    await workers.stop();
    const tenantId = await h.register('bridge');
    await h.settled(tenantId, 'ACTIVE');
    await h.tenants.requestOffboarding(PLATFORM, tenantId);
    await h.settled(tenantId, 'OFFBOARDED');
    await watching.stop();
    workers = h.workers({ providers: counting.providers, exportDir: join(h.dataDir, 'exports') });
    expect(applied).toHaveLength(2);
    expect(applied[1]?.filter((o) => o.kind === 'Deployment').map((o) => o.spec?.replicas)).toEqual([0]);
  });

  it('keeps a left silo account for the retention period before closing it', async () => {
    await workers.stop();
    const retaining = h.workers({ accountRetentionMs: 3_600_000 });
    const tenantId = await h.register('silo');
    await h.settled(tenantId, 'ACTIVE');
    await h.tenants.requestOffboarding(PLATFORM, tenantId);
    await h.until('the account closure is scheduled', async () => {
      const step = await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'close-account' }).first();
      return typeof step?.state.closeAfter === 'string';
    });
    await retaining.stop();
    workers = h.workers({ providers: counting.providers, exportDir: join(h.dataDir, 'exports') });
    const step = await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'close-account' }).first();
    const accountId = (await WorkflowStep.query(h.db.knex).where({ tenant_id: tenantId, name: 'account' }).first())?.state.accountId as string;
    expect(await h.accounts.accountState(accountId)).toBe('ACTIVE');
    // Scheduled for the end of the retention period (from when the step recorded it).
    expect(new Date(step?.nextAttemptAt ?? 0).getTime()).toBeGreaterThanOrEqual(Date.parse(step?.state.closeAfter as string));
    expect(Date.parse(step?.state.closeAfter as string)).toBeGreaterThan(Date.now() + 3_000_000);
    expect((await tenantOf(tenantId)).status).toBe('OFFBOARDING');
    const report = await reconcile({ db: h.db, providers: h.providers }, tenantId);
    expect(report.skipped).toEqual([{ tenantId, reason: 'its offboard workflow is RUNNING' }]);
  });
});
