import { BaseModel } from './base-model.js';
import type { TenantStatus } from './tenant.js';

/** One row per lifecycle transition: the tenant's status history. */
export class TenantStatusChange extends BaseModel {
  static override tableName = 'tenant_status_changes';

  id!: number;
  tenantId!: string;
  fromStatus!: TenantStatus | null;
  toStatus!: TenantStatus;
  reason!: string;
  changedAt!: Date;
}
