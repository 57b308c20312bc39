import { isTierName } from '../../tenant-tiers/index.js';
import type { Database } from '../db/database.js';
import type { TenantInfo, TenantLookup } from './job-service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Job Manager's view of a tenant, read from the Tenant Manager's database: its tier, name and status,
 * and its own account (silo) once provisioning has made it. `accountOf` supplies that account id; the
 * provisioning workflow knows it.
 */
export function tenantLookupFromDatabase(db: Database, accountOf: (tenantId: string) => Promise<string | null> = () => Promise.resolve(null)): TenantLookup {
  return async (tenantId) => {
    // Tenant ids are uuids; anything else names no tenant (and Postgres would reject it as input).
    if (!UUID.test(tenantId)) return null;
    const row = await db.knex<{ id: string; tier: string; name: string; status: string }>('tenants').where({ id: tenantId }).first('tier', 'name', 'status');
    if (!row || !isTierName(row.tier)) return null;
    const accountId = await accountOf(tenantId);
    const info: TenantInfo = { tier: row.tier, name: row.name, status: row.status, ...(accountId ? { accountId } : {}) };
    return info;
  };
}

/** The tenants that run jobs now (ACTIVE), for a local stand-in of their executor Deployments. */
export async function activeTenants(db: Database): Promise<{ readonly id: string; readonly name: string; readonly tier: TenantInfo['tier'] }[]> {
  const rows = await db.knex<{ id: string; name: string; tier: string; status: string }>('tenants').where({ status: 'ACTIVE' }).select('id', 'name', 'tier');
  return rows.flatMap((row) => (isTierName(row.tier) ? [{ id: row.id, name: row.name, tier: row.tier }] : []));
}
