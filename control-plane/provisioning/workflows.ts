import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isTierName, type TierName } from '../../tenant-tiers/index.js';
import { canTransition, transitionTenant } from '../tenant-manager/lifecycle.js';
import { Tenant, TierChangeRequest } from '../tenant-manager/models/index.js';
import { NothingToRetryError, ProvisioningError, TierChangeBlockedError } from './errors.js';
import { TenantResource, Workflow, WorkflowStep, type WorkflowInput, type WorkflowKind } from './models/index.js';
import { ACCOUNT_STEP, offboardingPlan, onboardingPlan, placementOf, tierChangePlan, type StepName } from './plans.js';

/** Workflows that hold back the tenant's later ones: they run one at a time, oldest first. */
export const UNFINISHED: readonly Workflow['status'][] = ['PENDING', 'RUNNING', 'FAILED'];

export function asTier(value: string | null | undefined): TierName {
  if (!isTierName(value)) throw new ProvisioningError(`"${String(value)}" is not a tier the kit knows: the tenant row or workflow input is corrupt.`);
  return value;
}

async function insertWorkflow(trx: Knex.Transaction, tenantId: string, kind: WorkflowKind, input: WorkflowInput, steps: readonly StepName[], now: Date): Promise<Workflow> {
  const workflow = await Workflow.query(trx).insertAndFetch({ id: randomUUID(), tenantId, kind, status: 'PENDING', input, currentStep: 0, stepCount: steps.length, error: null, createdAt: now, updatedAt: now, startedAt: null, finishedAt: null });
  await WorkflowStep.query(trx).insert(
    steps.map((name, position) => ({ workflowId: workflow.id, position, tenantId, name, status: 'PENDING' as const, state: {}, attempts: 0, lastError: null, nextAttemptAt: position === 0 ? now : null, lockedBy: null, lockedUntil: null, updatedAt: now })),
  );
  return workflow;
}

/** Onboarding of a just-registered tenant, in the registration's transaction. */
export function enqueueOnboarding(trx: Knex.Transaction, tenant: { readonly id: string; readonly tier: string }, now: Date): Promise<Workflow> {
  return insertWorkflow(trx, tenant.id, 'onboard', {}, onboardingPlan(asTier(tenant.tier)), now);
}

/**
 * The tier the tenant will run on once its queued tier changes are done: what a new tier change
 * starts from.
 */
export async function plannedTier(trx: Knex.Transaction, tenant: { readonly id: string; readonly tier: string }): Promise<TierName> {
  const last = await Workflow.query(trx).where({ tenant_id: tenant.id, kind: 'change_tier' }).whereIn('status', UNFINISHED).orderBy('seq', 'desc').first();
  return asTier(last?.input.toTier ?? tenant.tier);
}

/** A tier change, in the transaction that records its tier-change request. */
export async function enqueueTierChange(trx: Knex.Transaction, change: { readonly id: string; readonly tenantId: string; readonly fromTier: string; readonly toTier: string }, now: Date): Promise<Workflow> {
  const failed = await Workflow.query(trx).where({ tenant_id: change.tenantId, kind: 'change_tier', status: 'FAILED' }).first();
  if (failed) {
    throw new TierChangeBlockedError(
      `The tier change ${failed.input.fromTier} -> ${failed.input.toTier} failed (${failed.error ?? 'no reason recorded'}): retry it with POST /v1/tenants/${change.tenantId}/provisioning/retry before asking for another.`,
    );
  }
  const from = asTier(change.fromTier);
  const to = asTier(change.toTier);
  return insertWorkflow(trx, change.tenantId, 'change_tier', { fromTier: from, toTier: to, tierChangeRequestId: change.id }, tierChangePlan(from, to), now);
}

/**
 * Offboarding, in the transaction that makes the tenant OFFBOARDING. Unfinished earlier workflows
 * are cancelled: offboarding removes whatever they made (every resource is recorded before it is
 * made, except an account, known only once its creation succeeded: `settle-accounts` records those),
 * and waits for a step still running to end before it starts.
 *
 * It settles and closes accounts whenever the tenant may have one: its tier has one, one is recorded,
 * or any of its workflows has an account step, whatever that step's state. Not only the steps that show
 * a started creation: a worker may have claimed a PENDING account step just before this transaction
 * cancelled its workflow (the claim locks the step row, not the workflow's) and start CreateAccount after
 * it commits, while this transaction still reads the step as never run. The two steps cost nothing when
 * there is nothing to settle or close.
 */
export async function enqueueOffboarding(trx: Knex.Transaction, tenant: { readonly id: string; readonly tier: string }, reason: string, now: Date): Promise<Workflow> {
  await Workflow.query(trx).where('tenant_id', tenant.id).whereIn('status', UNFINISHED).patch({ status: 'CANCELLED', updatedAt: now, finishedAt: now, error: 'cancelled by offboarding' });
  const accounts = await TenantResource.query(trx).where({ tenant_id: tenant.id, kind: 'account' }).whereNull('removed_at').resultSize();
  const accountSteps = await WorkflowStep.query(trx).where({ tenant_id: tenant.id, name: ACCOUNT_STEP }).resultSize();
  return insertWorkflow(trx, tenant.id, 'offboard', { reason }, offboardingPlan(placementOf(asTier(tenant.tier)).ownAccount || accounts > 0 || accountSteps > 0), now);
}

/** What each kind of workflow does to the tenant when it starts, fails, or is retried. */
interface KindHooks {
  onStart(trx: Knex.Transaction, workflow: Workflow, now: Date): Promise<void>;
  onFailure(trx: Knex.Transaction, workflow: Workflow, reason: string, now: Date): Promise<void>;
  onRetry(trx: Knex.Transaction, workflow: Workflow, now: Date): Promise<void>;
}

async function setTierChangeStatus(trx: Knex.Transaction, workflow: Workflow, status: TierChangeRequest['status']): Promise<void> {
  if (workflow.input.tierChangeRequestId) await TierChangeRequest.query(trx).findById(workflow.input.tierChangeRequestId).patch({ status });
}

const HOOKS: Readonly<Record<WorkflowKind, KindHooks>> = {
  onboard: {
    async onStart(trx, workflow, now) {
      const tenant = await Tenant.query(trx).findById(workflow.tenantId);
      if (tenant?.status === 'PENDING') await transitionTenant(trx, workflow.tenantId, 'PROVISIONING', 'provisioning started', now);
    },
    async onFailure(trx, workflow, reason, now) {
      const tenant = await Tenant.query(trx).findById(workflow.tenantId);
      if (tenant && canTransition(tenant.status, 'FAILED')) await transitionTenant(trx, workflow.tenantId, 'FAILED', `provisioning failed: ${reason}`, now);
    },
    async onRetry(trx, workflow, now) {
      const tenant = await Tenant.query(trx).findById(workflow.tenantId);
      if (tenant?.status === 'FAILED') await transitionTenant(trx, workflow.tenantId, 'PROVISIONING', 'provisioning retried', now);
    },
  },
  // The tenant stays ACTIVE through a tier change: it is served by the old placement until the cutover.
  change_tier: {
    onStart: (trx, workflow) => setTierChangeStatus(trx, workflow, 'IN_PROGRESS'),
    onFailure: (trx, workflow) => setTierChangeStatus(trx, workflow, 'FAILED'),
    onRetry: (trx, workflow) => setTierChangeStatus(trx, workflow, 'IN_PROGRESS'),
  },
  // The tenant is OFFBOARDING from the request on; a failed teardown leaves it there until retried.
  offboard: {
    onStart: () => Promise.resolve(),
    onFailure: () => Promise.resolve(),
    onRetry: () => Promise.resolve(),
  },
};

export function hooksOf(kind: WorkflowKind): KindHooks {
  return HOOKS[kind];
}

/**
 * Resets the tenant's failed workflow at its failed step: the step runs again from what it had
 * learnt, with its attempts back to 0.
 */
export async function retryFailedWorkflow(trx: Knex.Transaction, tenantId: string, now: Date): Promise<Workflow> {
  const workflow = await Workflow.query(trx).where({ tenant_id: tenantId, status: 'FAILED' }).orderBy('seq').forUpdate().first();
  if (!workflow) throw new NothingToRetryError(`Tenant ${tenantId} has no failed provisioning workflow: there is nothing to retry.`);
  await WorkflowStep.query(trx)
    .where({ workflow_id: workflow.id, position: workflow.currentStep })
    .patch({ status: 'PENDING', attempts: 0, lastError: null, nextAttemptAt: now, lockedBy: null, lockedUntil: null, updatedAt: now });
  const updated = await workflow.$query(trx).patchAndFetch({ status: 'RUNNING', error: null, updatedAt: now, finishedAt: null });
  await hooksOf(workflow.kind).onRetry(trx, updated, now);
  return updated;
}

export interface WorkflowView {
  readonly id: string;
  readonly kind: WorkflowKind;
  readonly status: Workflow['status'];
  readonly input: WorkflowInput;
  readonly error: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly steps: readonly {
    readonly position: number;
    readonly name: string;
    readonly status: WorkflowStep['status'];
    readonly attempts: number;
    readonly lastError: string | null;
    readonly nextAttemptAt: string | null;
    readonly state: Record<string, unknown>;
  }[];
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

export function toWorkflowView(workflow: Workflow, steps: readonly WorkflowStep[]): WorkflowView {
  return {
    id: workflow.id,
    kind: workflow.kind,
    status: workflow.status,
    input: workflow.input,
    error: workflow.error,
    createdAt: new Date(workflow.createdAt).toISOString(),
    startedAt: iso(workflow.startedAt),
    finishedAt: iso(workflow.finishedAt),
    steps: [...steps]
      .sort((a, b) => a.position - b.position)
      .map((step) => ({ position: step.position, name: step.name, status: step.status, attempts: step.attempts, lastError: step.lastError, nextAttemptAt: iso(step.nextAttemptAt), state: step.state })),
  };
}

/** Every workflow of the tenant with its steps, oldest first. */
export async function workflowsOf(trx: Knex | Knex.Transaction, tenantId: string): Promise<WorkflowView[]> {
  const workflows = await Workflow.query(trx).where('tenant_id', tenantId).orderBy('seq');
  const steps = await WorkflowStep.query(trx).where('tenant_id', tenantId);
  return workflows.map((workflow) => toWorkflowView(workflow, steps.filter((step) => step.workflowId === workflow.id)));
}
