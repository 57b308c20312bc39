import { BaseModel } from '../../tenant-manager/models/base-model.js';

export const RESOURCE_KINDS = ['identity', 'account', 'stack', 'kubernetes'] as const;
/** identity: the Cognito group; account: the silo account; stack: a CloudFormation stack; kubernetes: the tenant's objects in one cluster. */
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/**
 * An outside resource made for a tenant, recorded before the call that makes it, so nothing can
 * exist outside without a row here. `removedAt` is set once it is gone.
 */
export class TenantResource extends BaseModel {
  static override tableName = 'tenant_resources';
  static override get idColumn() {
    return ['tenant_id', 'kind', 'name'];
  }

  tenantId!: string;
  kind!: ResourceKind;
  /** Group name, account id, stack name, or cluster key (`shared`, `account:<id>`). */
  name!: string;
  /** The tier the resource serves; null for the tier-independent identity. */
  tier!: string | null;
  accountId!: string | null;
  region!: string | null;
  createdAt!: Date;
  removedAt!: Date | null;
}
