import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { TIERS, type TierName } from '../../tenant-tiers/index.js';
import { transitionTenant } from '../tenant-manager/lifecycle.js';
import { Subscription, Tenant, TenantUser, TierChangeRequest } from '../tenant-manager/models/index.js';
import { recordEvent } from '../tenant-manager/outbox.js';
import { ProvisioningError } from './errors.js';
import { TenantResource, Workflow, WorkflowStep, type ResourceKind, type StepState } from './models/index.js';
import type { ResolvedDeps } from './options.js';
import { ACCOUNT_STEP, clusterKey, placementOf, type StepName } from './plans.js';
import type { AccountRequest, ClusterLocation, KubeObject, TenantRef } from './providers.js';
import { asTier } from './workflows.js';

export const PROVISIONING_SOURCE = 'control-plane/provisioning';

/** What a step run ended with; a thrown error is a failed try (retried with backoff). */
export type StepOutcome =
  /** Finished; `commit` runs in the transaction that records it (tenant status, events). */
  | { readonly kind: 'done'; readonly state: StepState; readonly commit?: (trx: Knex.Transaction) => Promise<void> }
  /** Made progress that must be recorded before the next outside call: run again at once. */
  | { readonly kind: 'continue'; readonly state: StepState }
  /** Waiting on an outside operation: run again after `afterMs`. */
  | { readonly kind: 'poll'; readonly state: StepState; readonly afterMs: number }
  /** Failed for good (the outside said so): the workflow is FAILED until retried. */
  | { readonly kind: 'fail'; readonly reason: string; readonly state: StepState };

export interface StepContext {
  readonly deps: ResolvedDeps;
  readonly knex: Knex;
  readonly workflow: Workflow;
  readonly tenant: Tenant;
  readonly state: StepState;
  readonly now: Date;
}

type StepHandler = (ctx: StepContext) => Promise<StepOutcome>;

const done = (state: StepState, commit?: (trx: Knex.Transaction) => Promise<void>): StepOutcome => ({ kind: 'done', state, ...(commit ? { commit } : {}) });

export function refOf(tenant: Tenant, tier: TierName): TenantRef {
  return { tenantId: tenant.id, tenantName: tenant.name, tier };
}

/** The tier a workflow's steps provision: the tier change's target, else the tenant's tier. */
function tierOf(workflow: Workflow, tenant: Tenant): TierName {
  return asTier(workflow.kind === 'change_tier' ? workflow.input.toTier : tenant.tier);
}

function targetTier(ctx: StepContext): TierName {
  return tierOf(ctx.workflow, ctx.tenant);
}

/** The CreateAccount request of the tenant's own account: its email and name are how Organizations finds an earlier one. */
function accountRequest(ctx: StepContext, tier: TierName): AccountRequest {
  const tenant = refOf(ctx.tenant, tier);
  return { email: ctx.deps.accountEmail(tenant), accountName: `tenant-${ctx.tenant.name}`, tenant };
}

/** The tenant's region on a tier: its data-residency region where the tier runs anywhere, else the shared one. */
export function regionFor(tenant: Tenant, tier: TierName, sharedRegion: string): string {
  const residency = (tenant.requirements as { dataResidency?: unknown }).dataResidency;
  return TIERS[tier].runsInAnyRegion && typeof residency === 'string' ? residency : sharedRegion;
}

function regionOf(ctx: StepContext, tier: TierName): string {
  return regionFor(ctx.tenant, tier, ctx.deps.region);
}

async function liveResources(ctx: StepContext, kind: ResourceKind): Promise<TenantResource[]> {
  return await TenantResource.query(ctx.knex).where({ tenant_id: ctx.tenant.id, kind }).whereNull('removed_at').orderBy('created_at');
}

/** Records a resource before the call that makes it (or marks it live again). */
async function remember(ctx: StepContext, resource: { kind: ResourceKind; name: string; tier: TierName | null; accountId?: string | null; region?: string | null }): Promise<void> {
  await TenantResource.query(ctx.knex)
    .insert({ tenantId: ctx.tenant.id, kind: resource.kind, name: resource.name, tier: resource.tier, accountId: resource.accountId ?? null, region: resource.region ?? null, createdAt: ctx.now, removedAt: null })
    .onConflict(['tenant_id', 'kind', 'name'])
    .merge(['tier', 'account_id', 'region', 'removed_at']);
}

/**
 * A stack is known by where it lives as well as by its name: a tenant's stack keeps its name when the
 * tenant moves from the platform account to its own (silo), and the old one must still be found and removed.
 */
export function stackResourceName(stackName: string, accountId: string | undefined | null, region: string): string {
  return `${accountId ?? 'platform'}/${region}/${stackName}`;
}

export function stackNameOf(resource: TenantResource): string {
  return resource.name.slice(resource.name.lastIndexOf('/') + 1);
}

/** The cluster a recorded Kubernetes placement lives in: the tenant's own account's, or the shared one (no account). */
export function clusterOf(placement: TenantResource, sharedRegion: string): ClusterLocation {
  return { region: placement.region ?? sharedRegion, ...(placement.accountId ? { accountId: placement.accountId } : {}) };
}

async function forget(ctx: StepContext, resource: TenantResource): Promise<void> {
  await TenantResource.query(ctx.knex).findById([resource.tenantId, resource.kind, resource.name]).patch({ removedAt: ctx.now });
}

/** The tenant's own account for a tier that has one; undefined for the others. */
async function accountFor(ctx: StepContext, tier: TierName): Promise<string | undefined> {
  if (!placementOf(tier).ownAccount) return undefined;
  const [account] = await liveResources(ctx, 'account');
  if (!account) throw new ProvisioningError(`Tenant ${ctx.tenant.name} has no account recorded, yet its tier ${tier} needs one: the account step did not run.`);
  return account.name;
}

/**
 * Resources a removal step takes away: for offboarding all of them; for a tier change those that
 * do not serve the tier the tenant now runs on.
 */
function toRemove(ctx: StepContext, resources: readonly TenantResource[]): TenantResource[] {
  return ctx.workflow.kind === 'offboard' ? [...resources] : resources.filter((resource) => resource.tier !== ctx.tenant.tier);
}

/** Quiesces workloads: the same objects with every Deployment and StatefulSet at 0 replicas. */
function scaledToZero(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') return object;
    const spec = (object.spec ?? {}) as Record<string, unknown>;
    return { ...object, spec: { ...spec, replicas: 0 } };
  });
}

async function renderValidated(ctx: StepContext, tier: TierName, accountId: string | undefined): Promise<readonly KubeObject[]> {
  const objects = await ctx.deps.renderManifests({ tenant: refOf(ctx.tenant, tier), region: regionOf(ctx, tier), ...(accountId ? { accountId } : {}) });
  await ctx.deps.validateManifests(objects);
  return objects;
}

/** What `settle-accounts` learnt of one account step's creation. */
interface SettledCreation {
  /** The account step, `<workflow id>/<position>`. */
  readonly step: string;
  /** The creation's request; null when none was recorded or found. */
  readonly requestId: string | null;
  /** The account it made, now recorded. */
  readonly accountId?: string;
  /** Organizations' reason when the creation FAILED. */
  readonly failed?: string;
}

const STEPS: Readonly<Record<StepName, StepHandler>> = {
  async identity(ctx) {
    const admin = await TenantUser.query(ctx.knex).where({ tenant_id: ctx.tenant.id, role: 'tenant-admin' }).orderBy('created_at').first();
    if (!admin) return { kind: 'fail', reason: `tenant ${ctx.tenant.name} has no tenant-admin user to create in the user pool: add one`, state: ctx.state };
    const identity = await ctx.deps.providers.identity.ensureTenantIdentity(refOf(ctx.tenant, targetTier(ctx)), { email: admin.email });
    await remember(ctx, { kind: 'identity', name: identity.groupName, tier: null });
    return done({ groupName: identity.groupName, adminUsername: identity.adminUsername });
  },

  async account(ctx) {
    const tier = targetTier(ctx);
    const accounts = ctx.deps.providers.accounts;
    const state = ctx.state as { requestId?: string; accountId?: string; email?: string; movedToOu?: boolean };
    if (!state.accountId) {
      const request = accountRequest(ctx, tier);
      const email = request.email;
      if (!state.requestId) {
        const started = await accounts.startAccountCreation(request);
        if ('existingAccountId' in started) {
          await remember(ctx, { kind: 'account', name: started.existingAccountId, tier, region: regionOf(ctx, tier) });
          return { kind: 'continue', state: { email, accountId: started.existingAccountId } };
        }
        return { kind: 'continue', state: { email, requestId: started.requestId } };
      }
      const status = await accounts.accountCreationStatus(state.requestId);
      if (status.state === 'IN_PROGRESS') return { kind: 'poll', state, afterMs: ctx.deps.pollIntervalMs };
      if (status.state === 'FAILED') {
        // Forget the request: a retry starts a new creation.
        return { kind: 'fail', reason: `CreateAccount for ${email} failed: ${status.reason}`, state: { email, failedRequestId: state.requestId } };
      }
      await remember(ctx, { kind: 'account', name: status.result.accountId, tier, region: regionOf(ctx, tier) });
      return { kind: 'continue', state: { ...state, accountId: status.result.accountId } };
    }
    await accounts.moveToTenantsOu(state.accountId);
    return done({ ...state, movedToOu: true });
  },

  async infrastructure(ctx) {
    const tier = targetTier(ctx);
    const stacks = ctx.deps.providers.stacks;
    const state = ctx.state as { stackName?: string; accountId?: string; region?: string; started?: boolean };
    if (!state.started || !state.stackName || !state.region) {
      const accountId = await accountFor(ctx, tier);
      const region = regionOf(ctx, tier);
      const stack = await ctx.deps.synthesizeStack({ tenant: refOf(ctx.tenant, tier), region, ...(accountId ? { accountId } : {}) });
      await remember(ctx, { kind: 'stack', name: stackResourceName(stack.stackName, accountId, region), tier, accountId: accountId ?? null, region });
      await stacks.startDeployment({
        stackName: stack.stackName,
        template: stack.template,
        region,
        ...(accountId ? { accountId } : {}),
        tags: { 'saas-tenancy-kit:tenant-id': ctx.tenant.id, 'saas-tenancy-kit:tenant': ctx.tenant.name, 'saas-tenancy-kit:tier': tier },
      });
      return { kind: 'continue', state: { stackName: stack.stackName, region, ...(accountId ? { accountId } : {}), started: true } };
    }
    const where = { stackName: state.stackName, region: state.region, ...(state.accountId ? { accountId: state.accountId } : {}) };
    const status = await stacks.deploymentStatus(where);
    if (status.state === 'IN_PROGRESS') return { kind: 'poll', state, afterMs: ctx.deps.pollIntervalMs };
    if (status.state === 'FAILED') return { kind: 'fail', reason: `stack ${state.stackName} failed and was rolled back: ${status.reason}`, state: { ...state, started: false } };
    return done({ ...state, outputs: status.result.outputs });
  },

  async kubernetes(ctx) {
    const tier = targetTier(ctx);
    const accountId = await accountFor(ctx, tier);
    let objects: readonly KubeObject[];
    try {
      objects = await renderValidated(ctx, tier, accountId);
    } catch (error) {
      // A chart that renders invalid objects fails the same way every time: no point retrying.
      return { kind: 'fail', reason: `the tenant's manifests are invalid: ${(error as Error).message}`, state: ctx.state };
    }
    const cluster = clusterKey(tier, accountId ?? null);
    const region = regionOf(ctx, tier);
    await remember(ctx, { kind: 'kubernetes', name: cluster, tier, accountId: accountId ?? null, region });
    await ctx.deps.providers.kubernetes.apply(refOf(ctx.tenant, tier), { region, ...(accountId ? { accountId } : {}) }, objects);
    return done({ cluster, objects: objects.length });
  },

  activation(ctx) {
    return Promise.resolve(done({}, async (trx) => void (await transitionTenant(trx, ctx.tenant.id, 'ACTIVE', 'provisioning finished', ctx.now))));
  },

  cutover(ctx) {
    const to = targetTier(ctx);
    return Promise.resolve(
      done({ from: ctx.tenant.tier, to }, async (trx) => {
        const tenant = await Tenant.query(trx).findById(ctx.tenant.id).forUpdate();
        if (!tenant) throw new ProvisioningError(`Tenant ${ctx.tenant.id} disappeared during its tier change.`);
        const from = asTier(tenant.tier);
        if (from === to) return;
        await tenant.$query(trx).patch({ tier: to, updatedAt: ctx.now });
        if (ctx.workflow.input.tierChangeRequestId) await TierChangeRequest.query(trx).findById(ctx.workflow.input.tierChangeRequestId).patch({ status: 'DONE' });
        await recordEvent(trx, { type: 'tenant.tier_changed', tenantId: tenant.id, time: ctx.now, data: { from, to } }, PROVISIONING_SOURCE);
      }),
    );
  },

  async suspend(ctx) {
    const suspended: string[] = [];
    for (const placement of await liveResources(ctx, 'kubernetes')) {
      const tier = asTier(placement.tier);
      const objects = await renderValidated(ctx, tier, placement.accountId ?? undefined);
      await ctx.deps.providers.kubernetes.apply(refOf(ctx.tenant, tier), clusterOf(placement, ctx.deps.region), scaledToZero(objects));
      suspended.push(placement.name);
    }
    return done({ suspended });
  },

  async export(ctx) {
    const ref = refOf(ctx.tenant, asTier(ctx.tenant.tier));
    const resources = await TenantResource.query(ctx.knex).where('tenant_id', ctx.tenant.id).whereNull('removed_at').orderBy('created_at');
    const kubernetes = [];
    for (const placement of resources.filter((r) => r.kind === 'kubernetes')) {
      const objects = await ctx.deps.providers.kubernetes.listApplied(refOf(ctx.tenant, asTier(placement.tier)), clusterOf(placement, ctx.deps.region));
      kubernetes.push({ cluster: placement.name, objects });
    }
    const manifest = {
      tenant: { id: ctx.tenant.id, name: ctx.tenant.name, plan: ctx.tenant.planId, tier: ctx.tenant.tier },
      exportedAt: ctx.now.toISOString(),
      data: { s3Prefix: ctx.deps.dataPrefix(ref) },
      identity: resources.filter((r) => r.kind === 'identity').map((r) => ({ group: r.name })),
      accounts: resources.filter((r) => r.kind === 'account').map((r) => ({ accountId: r.name, region: r.region })),
      stacks: resources.filter((r) => r.kind === 'stack').map((r) => ({ stackName: stackNameOf(r), accountId: r.accountId, region: r.region, tier: r.tier })),
      kubernetes,
    };
    let file: string | null = null;
    if (ctx.deps.exportDir) {
      await mkdir(ctx.deps.exportDir, { recursive: true });
      file = join(ctx.deps.exportDir, `${ctx.tenant.name}.json`);
      await writeFile(file, JSON.stringify(manifest, null, 2) + '\n');
    }
    return done({ manifest, file });
  },

  async 'remove-kubernetes'(ctx) {
    const removed: string[] = [];
    for (const placement of toRemove(ctx, await liveResources(ctx, 'kubernetes'))) {
      await ctx.deps.providers.kubernetes.remove(refOf(ctx.tenant, asTier(placement.tier)), clusterOf(placement, ctx.deps.region));
      await forget(ctx, placement);
      removed.push(placement.name);
    }
    return done({ ...ctx.state, removed: [...((ctx.state.removed as string[] | undefined) ?? []), ...removed] });
  },

  async 'remove-infrastructure'(ctx) {
    const stacks = ctx.deps.providers.stacks;
    const state = ctx.state as { deleting?: string; removed?: string[] };
    const removed = state.removed ?? [];
    const [stack] = toRemove(ctx, await liveResources(ctx, 'stack'));
    if (!stack) return done({ removed });
    const where = { stackName: stackNameOf(stack), region: stack.region ?? ctx.deps.region, ...(stack.accountId ? { accountId: stack.accountId } : {}) };
    if (state.deleting !== stack.name) {
      await stacks.startDeletion(where);
      return { kind: 'continue', state: { removed, deleting: stack.name } };
    }
    const status = await stacks.deletionStatus(where);
    if (status.state === 'IN_PROGRESS') return { kind: 'poll', state, afterMs: ctx.deps.pollIntervalMs };
    if (status.state === 'FAILED') return { kind: 'fail', reason: `deleting stack ${stack.name} failed: ${status.reason}`, state: { removed } };
    await forget(ctx, stack);
    return { kind: 'continue', state: { removed: [...removed, stack.name] } };
  },

  async 'remove-identity'(ctx) {
    await ctx.deps.providers.identity.removeTenantIdentity(refOf(ctx.tenant, asTier(ctx.tenant.tier)));
    for (const identity of await liveResources(ctx, 'identity')) await forget(ctx, identity);
    return done({});
  },

  /**
   * Records every account a creation of the tenant's started and did not record, so that `close-account`
   * closes it: an `account` step (of any workflow: an onboarding or a tier change that offboarding cancelled,
   * running or FAILED) with a CreateAccount request and no account id. Organizations finishes the creation
   * whatever became of the workflow. One outside call per run, one account step after the other: IN_PROGRESS
   * is polled as the account step polls it, SUCCEEDED is recorded, FAILED needs nothing.
   *
   * A step that ran and recorded no request id may still have started a creation: its worker died right after
   * CreateAccount, or the call's answer was lost. Organizations takes no idempotency token, so such a creation
   * is looked for the way a retry of the step would find it, by the tenant's account email and name, but with
   * `findAccountCreation`, which never starts one. A step still PENDING never ran (or was reset by a retry after
   * its creation FAILED) and started nothing. Idempotent: recording is an upsert, and a run repeated after a
   * crash polls or looks again; a request found by the lookup is kept in the state (`polling`).
   */
  async 'settle-accounts'(ctx) {
    const accounts = ctx.deps.providers.accounts;
    const state = ctx.state as { settled?: SettledCreation[]; polling?: { step: string; requestId: string } };
    const settled = state.settled ?? [];
    const workflows = await Workflow.query(ctx.knex).where('tenant_id', ctx.tenant.id).orderBy('seq');
    const steps = await WorkflowStep.query(ctx.knex).where({ tenant_id: ctx.tenant.id, name: ACCOUNT_STEP });
    const keyOf = (step: WorkflowStep) => `${step.workflowId}/${step.position}`;
    const unsettled = workflows.flatMap((workflow) =>
      steps
        .filter((step) => step.workflowId === workflow.id && !settled.some((s) => s.step === keyOf(step)))
        .filter((step) => typeof step.state.accountId !== 'string' && (typeof step.state.requestId === 'string' || step.status !== 'PENDING'))
        .map((step) => ({ step, workflow })),
    );
    const [next] = unsettled;
    if (!next) return done({ settled });
    const key = keyOf(next.step);
    const tier = tierOf(next.workflow, ctx.tenant);
    // The email the step used, should `accountEmail` have changed since.
    const email = typeof next.step.state.email === 'string' ? next.step.state.email : undefined;
    const request = { ...accountRequest(ctx, tier), ...(email ? { email } : {}) };
    const record = async (accountId: string, requestId: string | null): Promise<StepOutcome> => {
      await remember(ctx, { kind: 'account', name: accountId, tier, region: regionOf(ctx, tier) });
      return { kind: 'continue', state: { settled: [...settled, { step: key, requestId, accountId }] } };
    };

    const requestId = typeof next.step.state.requestId === 'string' ? next.step.state.requestId : state.polling?.step === key ? state.polling.requestId : undefined;
    if (requestId === undefined) {
      const found = await accounts.findAccountCreation(request);
      if (found === undefined) return { kind: 'continue', state: { settled: [...settled, { step: key, requestId: null }] } };
      if ('existingAccountId' in found) return record(found.existingAccountId, null);
      return { kind: 'continue', state: { settled, polling: { step: key, requestId: found.requestId } } };
    }
    const status = await accounts.accountCreationStatus(requestId);
    if (status.state === 'IN_PROGRESS') return { kind: 'poll', state: { settled, polling: { step: key, requestId } }, afterMs: ctx.deps.pollIntervalMs };
    if (status.state === 'FAILED') return { kind: 'continue', state: { settled: [...settled, { step: key, requestId, failed: status.reason }] } };
    return record(status.result.accountId, requestId);
  },

  async 'close-account'(ctx) {
    const state = ctx.state as { closeAfter?: string; closed?: string[] };
    const closed = state.closed ?? [];
    const [account] = toRemove(ctx, await liveResources(ctx, 'account'));
    if (!account) return done({ ...state, closed });
    // The retention period: the account (and the data in it) stays this long after the tenant left it.
    if (!state.closeAfter) {
      const closeAfter = new Date(ctx.now.getTime() + ctx.deps.accountRetentionMs).toISOString();
      return { kind: 'poll', state: { ...state, closed, closeAfter }, afterMs: ctx.deps.accountRetentionMs };
    }
    if (Date.parse(state.closeAfter) > ctx.now.getTime()) return { kind: 'poll', state, afterMs: Date.parse(state.closeAfter) - ctx.now.getTime() };
    await ctx.deps.providers.accounts.closeAccount(account.name);
    await forget(ctx, account);
    return { kind: 'continue', state: { ...state, closed: [...closed, account.name] } };
  },

  completion(ctx) {
    const reason = ctx.workflow.input.reason ?? 'offboarding requested';
    return Promise.resolve(
      done({}, async (trx) => {
        await transitionTenant(trx, ctx.tenant.id, 'OFFBOARDED', 'offboarding finished', ctx.now);
        await Subscription.query(trx).where('tenant_id', ctx.tenant.id).whereNull('ended_at').patch({ endedAt: ctx.now });
        await recordEvent(trx, { type: 'tenant.offboarded', tenantId: ctx.tenant.id, time: ctx.now, data: { reason } }, PROVISIONING_SOURCE);
      }),
    );
  },
};

export function stepHandler(name: string): StepHandler {
  const handler = (STEPS as Readonly<Record<string, StepHandler>>)[name];
  if (!handler) throw new ProvisioningError(`No step is named "${name}": the workflow row names a step this version of the kit does not have.`);
  return handler;
}
