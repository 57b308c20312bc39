import type { Knex } from 'knex';
import { ConflictError } from '../errors.js';
import { Tenant, TenantStatusChange, type TenantStatus } from './models/index.js';
import { recordEvent } from './outbox.js';

/** Which status may follow which: the tenant lifecycle. */
const NEXT_STATUSES: Readonly<Record<TenantStatus, readonly TenantStatus[]>> = {
  PENDING: ['PROVISIONING', 'FAILED', 'OFFBOARDING'],
  PROVISIONING: ['ACTIVE', 'FAILED'],
  ACTIVE: ['PROVISIONING', 'SUSPENDED', 'OFFBOARDING'],
  FAILED: ['PROVISIONING', 'OFFBOARDING'],
  SUSPENDED: ['ACTIVE', 'OFFBOARDING'],
  OFFBOARDING: ['OFFBOARDED'],
  OFFBOARDED: [],
};

export function canTransition(from: TenantStatus, to: TenantStatus): boolean {
  return NEXT_STATUSES[from].includes(to);
}

/**
 * Moves a tenant to a new status, with its history row and its event, in the caller's transaction.
 * The row is locked first, so two concurrent transitions cannot both start from the same status.
 */
export async function transitionTenant(trx: Knex.Transaction, tenantId: string, to: TenantStatus, reason: string, now: Date): Promise<Tenant> {
  const tenant = await Tenant.query(trx).findById(tenantId).forUpdate();
  if (!tenant) throw new ConflictError(`Tenant ${tenantId} disappeared during the change.`);
  if (!canTransition(tenant.status, to)) {
    throw new ConflictError(`Tenant ${tenant.name} is ${tenant.status} and cannot become ${to}; allowed next: ${NEXT_STATUSES[tenant.status].join(', ') || 'none'}.`);
  }
  const updated = await tenant.$query(trx).patchAndFetch({ status: to, updatedAt: now });
  await recordStatusChange(trx, tenantId, tenant.status, to, reason, now);
  return updated;
}

export async function recordStatusChange(trx: Knex.Transaction, tenantId: string, from: TenantStatus | null, to: TenantStatus, reason: string, now: Date): Promise<void> {
  await TenantStatusChange.query(trx).insert({ tenantId, fromStatus: from, toStatus: to, reason, changedAt: now });
  await recordEvent(trx, { type: 'tenant.status_changed', tenantId, time: now, data: { from, to, reason } });
}
