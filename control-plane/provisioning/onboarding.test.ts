import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIER_NAMES, TIERS } from '../../tenant-tiers/index.js';
import { BACKENDS } from '../testing/databases.js';
import { OutboxEvent, Tenant, TenantStatusChange } from '../tenant-manager/models/index.js';
import { Workflow, WorkflowStep } from './models/index.js';
import { onboardingPlan } from './plans.js';
import { reconcile } from './reconciler.js';
import { countingProviders } from './testing/fakes.js';
import { startHarness, type Harness } from './testing/harness.js';

/** Consecutive repeats folded: polls show once. */
const folded = (calls: readonly string[]) => calls.filter((call, index) => call !== calls[index - 1]);

describe.each(BACKENDS)('onboarding on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(TIER_NAMES)('brings a %s tenant to ACTIVE with its identity, stack and manifests', async (tier) => {
    const counting = countingProviders(h.providers);
    const workers = h.workers({ providers: counting.providers });
    const tenantId = await h.register(tier);
    await h.settled(tenantId, 'ACTIVE');
    await workers.stop();

    const tenant = await Tenant.query(h.db.knex).findById(tenantId);
    const ownAccount = TIERS[tier].isolation === 'account';
    expect(folded(counting.calls)).toEqual([
      'identity.ensureTenantIdentity',
      ...(ownAccount ? ['accounts.startAccountCreation', 'accounts.accountCreationStatus', 'accounts.moveToTenantsOu'] : []),
      'stacks.startDeployment',
      'stacks.deploymentStatus',
      'kubernetes.apply',
    ]);

    const workflow = await Workflow.query(h.db.knex).where('tenant_id', tenantId).first();
    expect(workflow?.status).toBe('SUCCEEDED');
    const steps = await WorkflowStep.query(h.db.knex).where('workflow_id', workflow?.id ?? '').orderBy('position');
    expect(steps.map((s) => s.name)).toEqual(onboardingPlan(tier));
    expect(steps.every((s) => s.status === 'SUCCEEDED' && s.lockedBy === null)).toBe(true);

    const stackName = `saas-kit-tenant-${tenant?.name}`;
    const account = steps.find((s) => s.name === 'account')?.state.accountId as string | undefined;
    expect(existsSync(h.stacks.fileOf({ stackName, region: 'us-east-1', ...(account ? { accountId: account } : {}) }))).toBe(true);
    // The objects are where the placement says: the tenant's own account for a tier that has one.
    const applied = await h.kubernetes.listApplied({ tenantId, tenantName: tenant?.name ?? '', tier }, { region: 'us-east-1', ...(account ? { accountId: account } : {}) });
    expect(applied).toEqual(expect.arrayContaining([`Namespace/${tenant?.name}`, `Deployment/${tenant?.name}/job-executor`]));
    if (ownAccount) {
      expect(await h.accounts.accountState(account ?? '')).toBe('ACTIVE');
      expect((await h.accounts.accounts()).find((a) => a.id === account)?.ou).toBe('tenants');
    }
    expect(h.identity.groups.get(tenant?.name ?? '')?.tenantId).toBe(tenantId);

    const history = await TenantStatusChange.query(h.db.knex).where('tenant_id', tenantId).orderBy('id');
    expect(history.map((c) => c.toStatus)).toEqual(['PENDING', 'PROVISIONING', 'ACTIVE']);
    const events = await OutboxEvent.query(h.db.knex).where({ tenant_id: tenantId, type: 'tenant.status_changed' }).orderBy('id');
    expect(events.map((e) => (e.event.data as { to: string }).to)).toEqual(['PENDING', 'PROVISIONING', 'ACTIVE']);

    expect((await reconcile({ db: h.db, providers: h.providers }, tenantId)).drift).toEqual([]);
  });
});
