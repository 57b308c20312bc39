export { BillingRecord } from './billing-record.js';
export { IdempotencyKey } from './idempotency-key.js';
export { OutboxEvent } from './outbox-event.js';
export { Plan } from './plan.js';
export { Subscription } from './subscription.js';
export { TENANT_STATUSES, Tenant, type TenantStatus } from './tenant.js';
export { TenantStatusChange } from './tenant-status-change.js';
export { TENANT_USER_ROLES, TenantUser, type TenantUserRole } from './tenant-user.js';
export { TierChangeRequest } from './tier-change-request.js';
