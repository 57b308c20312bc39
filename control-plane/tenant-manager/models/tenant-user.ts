import { BaseModel } from './base-model.js';

export const TENANT_USER_ROLES = ['tenant-admin', 'tenant-user'] as const;
export type TenantUserRole = (typeof TENANT_USER_ROLES)[number];

export class TenantUser extends BaseModel {
  static override tableName = 'tenant_users';

  id!: string;
  tenantId!: string;
  email!: string;
  role!: TenantUserRole;
  createdAt!: Date;
}
