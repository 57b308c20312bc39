import { TIER_NAMES, type TierName } from '../../tenant-tiers/index.js';
import type { Database } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import { Tenant } from '../tenant-manager/models/index.js';
import { TenantResource, Workflow, type ResourceKind } from './models/index.js';
import { DEFAULT_REGION } from './options.js';
import { clusterKey, placementOf } from './plans.js';
import type { ClusterLocation, Providers } from './providers.js';
import { clusterOf, refOf, regionFor, stackNameOf } from './steps.js';
import { UNFINISHED, asTier } from './workflows.js';

export interface DriftItem {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly kind: ResourceKind;
  /** Group, account id, stack name or cluster key. */
  readonly name: string;
  /** missing: should exist and does not; orphaned: exists and should not. */
  readonly drift: 'missing' | 'orphaned';
  readonly detail: string;
}

export interface ReconcileReport {
  /** Tenants compared. */
  readonly checked: readonly string[];
  /** Tenants in the middle of a workflow (or stopped by a failed one): what should exist is in flux. */
  readonly skipped: readonly { readonly tenantId: string; readonly reason: string }[];
  readonly drift: readonly DriftItem[];
}

/** Statuses in which a tenant should have every resource of its tier. */
const SERVED = ['ACTIVE', 'SUSPENDED'];

export interface ReconcileDeps {
  readonly db: Database;
  readonly providers: Providers;
  /**
   * Region of the shared cluster (the provisioning workers' `region`): where the objects of a tier on the
   * shared cluster are looked for when no placement of it was recorded.
   * @default 'us-east-1'
   */
  readonly region?: string;
}

/**
 * Compares what should exist for a tenant (its tier and status, and the resources recorded for
 * it) with what the providers report, and lists the differences; every tenant when `tenantId` is
 * omitted. Reports only: fixing drift is a workflow's job (retry, or offboarding).
 */
export async function reconcile(deps: ReconcileDeps, tenantId?: string): Promise<ReconcileReport> {
  const tenants = tenantId === undefined ? await Tenant.query(deps.db.knex).orderBy('created_at') : await Tenant.query(deps.db.knex).where('id', tenantId);
  if (tenantId !== undefined && tenants.length === 0) throw new NotFoundError(`No tenant ${tenantId}: nothing to reconcile.`);
  const checked: string[] = [];
  const skipped: { tenantId: string; reason: string }[] = [];
  const drift: DriftItem[] = [];
  for (const tenant of tenants) {
    const unfinished = await Workflow.query(deps.db.knex).where('tenant_id', tenant.id).whereIn('status', UNFINISHED).orderBy('seq').first();
    if (unfinished || (!SERVED.includes(tenant.status) && tenant.status !== 'OFFBOARDED')) {
      skipped.push({ tenantId: tenant.id, reason: unfinished ? `its ${unfinished.kind} workflow is ${unfinished.status}` : `it is ${tenant.status}` });
      continue;
    }
    checked.push(tenant.id);
    drift.push(...(await tenantDrift(deps, tenant)));
  }
  return { checked, skipped, drift };
}

async function tenantDrift(deps: ReconcileDeps, tenant: Tenant): Promise<DriftItem[]> {
  const { providers } = deps;
  const drift: DriftItem[] = [];
  const item = (kind: ResourceKind, name: string, kindOfDrift: DriftItem['drift'], detail: string) =>
    drift.push({ tenantId: tenant.id, tenantName: tenant.name, kind, name, drift: kindOfDrift, detail });
  const tier = asTier(tenant.tier);
  const resources = await TenantResource.query(deps.db.knex).where('tenant_id', tenant.id).orderBy('created_at');
  const served = SERVED.includes(tenant.status);
  // A resource serves the tenant when it is live and belongs to its tier (the identity to every tier).
  const serves = (resource: TenantResource) => served && resource.removedAt === null && (resource.tier === null || resource.tier === tier);

  const identityExists = await providers.identity.tenantIdentityExists(refOf(tenant, tier));
  if (served && !identityExists) item('identity', tenant.name, 'missing', 'the tenant has no group in the user pool');
  if (!served && identityExists) item('identity', tenant.name, 'orphaned', `the ${tenant.status} tenant still has a group in the user pool`);

  const accounts = resources.filter((r) => r.kind === 'account');
  if (served && placementOf(tier).ownAccount && !accounts.some(serves)) item('account', '-', 'missing', `the ${tier} tier needs an account of its own and none is recorded`);
  for (const account of accounts) {
    const state = await providers.accounts.accountState(account.name);
    if (serves(account) && state !== 'ACTIVE') item('account', account.name, 'missing', `the account is ${state ?? 'unknown to the organization'}`);
    if (!serves(account) && state === 'ACTIVE') item('account', account.name, 'orphaned', 'the account is still ACTIVE');
  }

  const stacks = resources.filter((r) => r.kind === 'stack');
  if (served && !stacks.some(serves)) item('stack', '-', 'missing', `no stack is recorded for the ${tier} tier`);
  for (const stack of stacks) {
    const exists = await providers.stacks.stackExists({ stackName: stackNameOf(stack), region: stack.region ?? '', ...(stack.accountId ? { accountId: stack.accountId } : {}) });
    if (serves(stack) && !exists) item('stack', stack.name, 'missing', 'the stack does not exist');
    if (!serves(stack) && exists) item('stack', stack.name, 'orphaned', 'the stack still exists');
  }

  // Objects are looked for in every cluster the tenant could have objects in, recorded or not.
  const accountRow = accounts.find((r) => r.removedAt === null) ?? accounts.at(-1);
  const account = accountRow?.name ?? null;
  const current = served ? clusterKey(tier, account) : null;
  const sharedRegion = deps.region ?? DEFAULT_REGION;
  const placements = resources.filter((r) => r.kind === 'kubernetes');
  const clusters = new Map<string, { readonly tier: TierName; readonly location: ClusterLocation | null }>();
  for (const candidate of [tier, ...TIER_NAMES]) {
    const key = clusterKey(candidate, account);
    if (clusters.has(key)) continue;
    const recorded = placements.filter((r) => r.name === key).at(-1);
    let location: ClusterLocation | null;
    if (recorded) location = clusterOf(recorded, sharedRegion);
    else if (!placementOf(candidate).ownCluster) location = { region: regionFor(tenant, candidate, sharedRegion) };
    // A cluster of the tenant's own needs its account: without one there is no such cluster to look in.
    else location = account === null ? null : { accountId: account, region: accountRow?.region ?? regionFor(tenant, candidate, sharedRegion) };
    clusters.set(key, { tier: candidate, location });
  }
  for (const [cluster, { tier: clusterTier, location }] of clusters) {
    if (location === null) {
      if (cluster === current) item('kubernetes', cluster, 'missing', `the ${tier} tier runs in a cluster of the tenant's own account, and no account is recorded`);
      continue;
    }
    const applied = await providers.kubernetes.listApplied(refOf(tenant, clusterTier), location);
    if (cluster === current && applied.length === 0) item('kubernetes', cluster, 'missing', 'no object of the tenant is applied');
    if (cluster !== current && applied.length > 0) item('kubernetes', cluster, 'orphaned', `${applied.length} objects are still applied, e.g. ${applied[0] ?? ''}`);
  }
  return drift;
}

/** The tenant's own AWS account (a silo), or null when it has none (for the Job Manager's lookups). */
export async function tenantAccountId(db: Database, tenantId: string): Promise<string | null> {
  const account = await TenantResource.query(db.knex).where({ tenant_id: tenantId, kind: 'account' }).whereNull('removed_at').orderBy('created_at', 'desc').first();
  return account?.name ?? null;
}
