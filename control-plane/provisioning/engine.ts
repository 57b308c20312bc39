import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/database.js';
import { Tenant } from '../tenant-manager/models/index.js';
import { ProvisioningError } from './errors.js';
import { Workflow, WorkflowStep } from './models/index.js';
import { resolveDeps, type ProvisioningDeps, type ResolvedDeps } from './options.js';
import { ACCOUNT_STEP } from './plans.js';
import { stepHandler, type StepOutcome } from './steps.js';
import { hooksOf } from './workflows.js';

/** A step a worker holds the lease of. */
export interface ClaimedStep {
  readonly workflowId: string;
  readonly position: number;
  readonly name: string;
  /** The lease's owner, `locked_by`: the worker and this claim. */
  readonly token: string;
  readonly workflow: Workflow;
}

/** What happened to a claimed step once its outcome was recorded. */
export type RunResult = 'done' | 'continue' | 'poll' | 'retry' | 'failed' | 'cancelled' | 'lease-lost';

// An account step that has neither request nor account would start a CreateAccount.
const STARTS_ACCOUNT = `(s.name = '${ACCOUNT_STEP}' AND s.state->>'requestId' IS NULL AND s.state->>'accountId' IS NULL)`;

// Account creations in flight: started (a request id, no account id yet) or about to start (claimed).
const ACCOUNTS_IN_FLIGHT = `
  SELECT count(*) FROM workflow_steps a JOIN workflows aw ON aw.id = a.workflow_id
  WHERE a.name = '${ACCOUNT_STEP}' AND aw.status IN ('PENDING', 'RUNNING') AND a.status IN ('PENDING', 'RUNNING')
    AND a.state->>'accountId' IS NULL
    AND (a.state->>'requestId' IS NOT NULL OR a.locked_until > :now)`;

/**
 * The next due step: the current step (only it has a next_attempt_at) of a running workflow that
 * is not waiting behind an older workflow of its tenant (unfinished, or cancelled with a step still
 * running), not leased, and not starting an account creation when no slot is free. Rows other
 * workers are claiming are skipped, not waited for.
 */
const CANDIDATE = `
  SELECT s.workflow_id, s.position, s.name, ${STARTS_ACCOUNT} AS starts_account
  FROM workflow_steps s
  JOIN workflows w ON w.id = s.workflow_id AND w.current_step = s.position
  WHERE s.status IN ('PENDING', 'RUNNING')
    AND s.next_attempt_at <= :now
    AND (s.locked_until IS NULL OR s.locked_until <= :now)
    AND w.status IN ('PENDING', 'RUNNING')
    AND NOT EXISTS (
      SELECT 1 FROM workflows e
      WHERE e.tenant_id = w.tenant_id AND e.seq < w.seq
        AND (e.status IN ('PENDING', 'RUNNING', 'FAILED')
          OR (e.status = 'CANCELLED' AND EXISTS (SELECT 1 FROM workflow_steps l WHERE l.workflow_id = e.id AND l.locked_until > :now))))
    AND (:accountSlots OR NOT ${STARTS_ACCOUNT})
  ORDER BY s.next_attempt_at
  LIMIT 1
  FOR UPDATE OF s SKIP LOCKED`;

/**
 * Runs workflow steps: claims one due step under a lease, runs it, records its outcome. Any number
 * of engines, in any number of processes, share the work through Postgres.
 */
export class WorkflowEngine {
  readonly deps: ResolvedDeps;

  constructor(
    private readonly db: Database,
    deps: ProvisioningDeps,
  ) {
    this.deps = resolveDeps(deps);
  }

  /** Claims, runs and records one due step; null when nothing is due. */
  async runNext(workerId: string): Promise<RunResult | null> {
    const claimed = await this.claim(workerId);
    if (!claimed) return null;
    return this.runClaimed(claimed);
  }

  async claim(workerId: string): Promise<ClaimedStep | null> {
    const now = this.deps.clock();
    return this.db.asPlatform(async (trx) => {
      // Every claim and record leaves the superseded versions of its rows in workflow_steps_due and the
      // workflows' status index until VACUUM. A bitmap scan reads all of those entries again on every
      // claim (with 1,000 tenants onboarded and no vacuum: 2,000 entries, 0.16 to 0.30 ms a claim against
      // 0.03); a plain index scan of workflow_steps_due in next_attempt_at order marks the entries of dead
      // rows as it meets them, so each is read once. Planner estimates on a queue table are poor, so the
      // claim's transaction rules bitmap scans out rather than hoping for the plan.
      await trx.raw('SET LOCAL enable_bitmapscan = off');
      // Counted without a lock: a hint that keeps account starters out while the limit is reached.
      const accountSlots = (await this.accountsInFlight(trx, now)) < this.deps.maxAccountCreationsInFlight;
      const result: { rows: { workflow_id: string; position: number; name: string; starts_account: boolean }[] } = await trx.raw(CANDIDATE, { now, accountSlots });
      const candidate = result.rows[0];
      if (!candidate) return null;
      if (candidate.starts_account && !(await this.accountSlotFree(trx, now))) return null;

      const token = `${workerId}/${randomUUID()}`;
      await WorkflowStep.query(trx)
        .findById([candidate.workflow_id, candidate.position])
        .patch({ status: 'RUNNING', lockedBy: token, lockedUntil: new Date(now.getTime() + this.deps.leaseMs), updatedAt: now });
      const workflow = await Workflow.query(trx).findById(candidate.workflow_id).forUpdate();
      if (!workflow) return null;
      if (workflow.status === 'PENDING') {
        const started = await workflow.$query(trx).patchAndFetch({ status: 'RUNNING', startedAt: now, updatedAt: now });
        await hooksOf(started.kind).onStart(trx, started, now);
        return { workflowId: candidate.workflow_id, position: candidate.position, name: candidate.name, token, workflow: started };
      }
      return { workflowId: candidate.workflow_id, position: candidate.position, name: candidate.name, token, workflow };
    });
  }

  /**
   * The candidate's count ran without a lock, so two workers may both have seen a free slot:
   * account starters recount one at a time, under a transaction-scoped advisory lock.
   */
  private async accountSlotFree(trx: Knex.Transaction, now: Date): Promise<boolean> {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`${this.db.schema}:account-creations`]);
    return (await this.accountsInFlight(trx, now)) < this.deps.maxAccountCreationsInFlight;
  }

  private async accountsInFlight(trx: Knex.Transaction, now: Date): Promise<number> {
    const result: { rows: { count: string | number }[] } = await trx.raw(ACCOUNTS_IN_FLIGHT, { now });
    return Number(result.rows[0]?.count ?? 0);
  }

  /** Runs a claimed step and records what came of it. */
  async runClaimed(claimed: ClaimedStep): Promise<RunResult> {
    let outcome: StepOutcome | { readonly kind: 'error'; readonly error: unknown };
    const now = this.deps.clock();
    try {
      const workflow = claimed.workflow;
      const [step, tenant] = await Promise.all([WorkflowStep.query(this.db.knex).findById([claimed.workflowId, claimed.position]), Tenant.query(this.db.knex).findById(workflow.tenantId)]);
      if (!step || !tenant) throw new ProvisioningError(`Workflow ${claimed.workflowId} or its tenant disappeared while step ${claimed.name} ran.`);
      outcome = await stepHandler(step.name)({ deps: this.deps, knex: this.db.knex, workflow, tenant, state: step.state, now });
    } catch (error) {
      outcome = { kind: 'error', error };
    }
    try {
      return await this.record(claimed, outcome);
    } catch (error) {
      // Recording failed (the step's commit broke a rule): count it as a failed try.
      if (outcome.kind === 'error') throw error;
      return this.record(claimed, { kind: 'error', error });
    }
  }

  private async record(claimed: ClaimedStep, outcome: StepOutcome | { readonly kind: 'error'; readonly error: unknown }): Promise<RunResult> {
    const now = this.deps.clock();
    return this.db.asPlatform(async (trx): Promise<RunResult> => {
      const workflow = await Workflow.query(trx).findById(claimed.workflowId).forUpdate();
      const step = await WorkflowStep.query(trx).findById([claimed.workflowId, claimed.position]).forUpdate();
      // The lease expired and another worker took the step over: its run is the one that counts.
      if (!workflow || !step || step.lockedBy !== claimed.token) return 'lease-lost';
      const released = { lockedBy: null, lockedUntil: null, updatedAt: now };
      const stepRow = WorkflowStep.query(trx).findById([claimed.workflowId, claimed.position]);
      if (workflow.status !== 'RUNNING') {
        // Cancelled meanwhile (offboarding): keep what the step learnt, advance nothing.
        await stepRow.patch({ ...released, ...('state' in outcome ? { state: outcome.state } : {}) });
        return 'cancelled';
      }
      switch (outcome.kind) {
        case 'done': {
          await stepRow.patch({ ...released, status: 'SUCCEEDED', state: outcome.state, lastError: null, nextAttemptAt: null });
          await outcome.commit?.(trx);
          const next = workflow.currentStep + 1;
          if (next >= workflow.stepCount) {
            await workflow.$query(trx).patch({ currentStep: next, status: 'SUCCEEDED', finishedAt: now, updatedAt: now });
          } else {
            await workflow.$query(trx).patch({ currentStep: next, updatedAt: now });
            await WorkflowStep.query(trx).findById([workflow.id, next]).patch({ nextAttemptAt: now, updatedAt: now });
          }
          return 'done';
        }
        case 'continue':
          await stepRow.patch({ ...released, state: outcome.state, nextAttemptAt: now });
          return 'continue';
        case 'poll':
          await stepRow.patch({ ...released, state: outcome.state, nextAttemptAt: new Date(now.getTime() + outcome.afterMs) });
          return 'poll';
        case 'fail':
          await this.fail(trx, workflow, step, outcome.reason, outcome.state, step.attempts + 1, now);
          return 'failed';
        case 'error': {
          const attempts = step.attempts + 1;
          const message = describe(outcome.error);
          if (attempts >= this.deps.maxAttempts) {
            await this.fail(trx, workflow, step, `gave up after ${attempts} attempts: ${message}`, step.state, attempts, now);
            return 'failed';
          }
          await stepRow.patch({ ...released, attempts, lastError: message, nextAttemptAt: new Date(now.getTime() + this.backoffMs(attempts)) });
          return 'retry';
        }
      }
    });
  }

  private async fail(trx: Knex.Transaction, workflow: Workflow, step: WorkflowStep, reason: string, state: Record<string, unknown>, attempts: number, now: Date): Promise<void> {
    await WorkflowStep.query(trx)
      .findById([step.workflowId, step.position])
      .patch({ status: 'FAILED', state, attempts, lastError: reason, lockedBy: null, lockedUntil: null, nextAttemptAt: null, updatedAt: now });
    const error = `step ${step.name} failed: ${reason}`;
    const failed = await workflow.$query(trx).patchAndFetch({ status: 'FAILED', error, updatedAt: now });
    await hooksOf(failed.kind).onFailure(trx, failed, error, now);
  }

  /** Capped exponential backoff with full jitter: uniform in [0, min(max, base x 2^(attempt-1))]. */
  backoffMs(attempt: number): number {
    const ceiling = Math.min(this.deps.backoff.maxMs, this.deps.backoff.baseMs * 2 ** (attempt - 1));
    return Math.floor(this.deps.random() * ceiling);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
  return String(error).slice(0, 2000);
}
