import type { Knex } from 'knex';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/database.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { Tenant } from '../tenant-manager/models/index.js';
import { WorkflowStep } from './models/index.js';
import { retryFailedWorkflow, toWorkflowView, workflowsOf, type WorkflowView } from './workflows.js';

export interface ProvisioningServiceOptions {
  /** @default - the system clock */
  readonly clock?: () => Date;
}

/**
 * The provisioning API's use cases: a tenant's workflows and the retry of a failed one. Tenant
 * callers run inside their tenant's row-level security, as in the Tenant Manager.
 */
export class ProvisioningService {
  private readonly clock: () => Date;

  constructor(
    private readonly db: Database,
    options: ProvisioningServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  async list(principal: Principal, tenantId: string): Promise<{ items: WorkflowView[] }> {
    return this.scoped(principal, async (trx) => {
      await this.visibleTenant(trx, tenantId);
      return { items: await workflowsOf(trx, tenantId) };
    });
  }

  /** Resets the tenant's failed step so the workers run it again; 409 when nothing failed. */
  async retry(principal: Principal, tenantId: string): Promise<WorkflowView> {
    if (principal.role !== 'platform-admin' && principal.role !== 'tenant-admin') {
      throw new ForbiddenError(`A ${principal.role} cannot retry provisioning: use a platform-admin token or the tenant's admin.`);
    }
    const now = this.clock();
    return this.scoped(principal, async (trx) => {
      await this.visibleTenant(trx, tenantId);
      const workflow = await retryFailedWorkflow(trx, tenantId, now);
      return toWorkflowView(workflow, await WorkflowStep.query(trx).where('workflow_id', workflow.id));
    });
  }

  private async visibleTenant(trx: Knex.Transaction, tenantId: string): Promise<Tenant> {
    const tenant = await Tenant.query(trx).findById(tenantId);
    if (!tenant) throw new NotFoundError(`No tenant ${tenantId} is visible to you.`);
    return tenant;
  }

  private scoped<T>(principal: Principal, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return principal.kind === 'tenant' ? this.db.asTenant(principal.tenantId, work) : this.db.asPlatform(work);
  }
}
