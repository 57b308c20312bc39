import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tenant, TenantUser } from '../tenant-manager/models/index.js';
import { BACKENDS, createTestDatabase, dropTestDatabase } from '../testing/databases.js';
import type { Database } from './database.js';

describe.each(BACKENDS)('row-level security on %s', (backend) => {
  let db: Database;
  const tenantA = randomUUID();
  const tenantB = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase(backend);
    await db.knex('plans').insert({ id: 'basic', display_name: 'Basic', monthly_price_cents: 100, default_tier: 'pool', allowed_tiers: ['pool'], max_users: 5 });
    const now = new Date();
    for (const [id, name] of [[tenantA, 'tenant-a'], [tenantB, 'tenant-b']] as const) {
      await db.knex('tenants').insert({ id, name, display_name: name, plan_id: 'basic', tier: 'pool', tier_reasons: '[]', requirements: '{}', status: 'PENDING', created_at: now, updated_at: now });
      await db.knex('tenant_users').insert({ id: randomUUID(), tenant_id: id, email: `admin@${name}.test`, role: 'tenant-admin', created_at: now });
    }
  });
  afterAll(async () => {
    await dropTestDatabase(db);
  });

  it('shows a tenant-scoped transaction only its own rows, even with no filter', async () => {
    const seen = await db.asTenant(tenantA, async (trx) => ({
      tenants: await trx('tenants').select('id'),
      users: await trx('tenant_users').select('tenant_id'),
    }));
    expect(seen.tenants).toEqual([{ id: tenantA }]);
    expect(seen.users).toEqual([{ tenant_id: tenantA }]);
  });

  it('shows the platform every tenant', async () => {
    const ids = await db.asPlatform(async (trx) => (await trx('tenants').select('id')).map((row: { id: string }) => row.id));
    expect(ids.sort()).toEqual([tenantA, tenantB].sort());
  });

  it('keeps the one-round-trip read inside the tenant too', async () => {
    const all = await db.readAsTenant(tenantB, db.prepareRead(Tenant.query(db.knex)), []);
    expect(all.map((t) => t.id)).toEqual([tenantB]);
    const byId = db.prepareRead(Tenant.query(db.knex).where('id', 'placeholder'));
    expect(await db.readAsTenant(tenantB, byId, [tenantA])).toEqual([]);
    expect((await db.readAsTenant(tenantB, byId, [tenantB])).map((t) => t.name)).toEqual(['tenant-b']);
    const users = await db.readAsTenant(tenantB, db.prepareRead(TenantUser.query(db.knex)), []);
    expect(users.map((u) => u.email)).toEqual(['admin@tenant-b.test']);
  });

  it('quotes inlined values, so a value cannot become SQL', async () => {
    const byName = db.prepareRead(Tenant.query(db.knex).where('name', 'placeholder'));
    expect(await db.readAsTenant(tenantA, byName, ["tenant-a' OR '1'='1"])).toEqual([]);
    await expect(db.readAsTenant(tenantA, byName, [])).rejects.toThrow(/takes 1 values/);
  });

  it('refuses a tenant-scoped write into another tenant', async () => {
    await expect(
      db.asTenant(tenantA, (trx) => trx('tenant_users').insert({ id: randomUUID(), tenant_id: tenantB, email: 'intruder@x.test', role: 'tenant-user', created_at: new Date() })),
    ).rejects.toThrow(/row-level security/);
  });

  it('leaves no tenant setting behind on the connection after the transaction', async () => {
    await db.asTenant(tenantA, (trx) => trx('tenants').select('id'));
    const result: { rows: { role: string; tenant: string }[] } = await db.knex.raw(`SELECT current_user AS role, coalesce(current_setting('app.tenant_id', true), '') AS tenant`);
    const [row] = result.rows;
    expect(row?.tenant).toBe('');
    expect(row?.role).not.toBe('saas_tenant_scope');
  });

  it('rejects a tenant scope that is not a UUID', async () => {
    await expect(db.asTenant("x' OR true --", (trx) => trx('tenants').select())).rejects.toThrow(/not a UUID/);
  });

  it('migrates down and up again', async () => {
    await db.rollbackAll();
    expect(await db.knex.schema.hasTable('tenants')).toBe(false);
    await db.migrate();
    expect(await db.knex.schema.hasTable('tenants')).toBe(true);
  });
});
