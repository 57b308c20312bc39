import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxEvent } from './models/index.js';
import { startApiFixture, type ApiFixture } from '../testing/api-fixture.js';
import { BACKENDS } from '../testing/databases.js';
import { expiredCopyOf, foreignCopyOf } from '../testing/tokens.js';

const PROBLEM = /application\/problem\+json/;

function registration(overrides: Record<string, unknown> = {}) {
  return { name: `t-${randomUUID().slice(0, 8)}`, plan: 'standard', adminEmail: 'admin@example.com', ...overrides };
}

describe.each(BACKENDS)('Tenant Manager API on %s', (backend) => {
  let f: ApiFixture;
  let onboarding: string;
  let platformAdmin: string;

  async function register(body: Record<string, unknown> = registration()) {
    const response = await f.api.post('/v1/tenants').set('Authorization', `Bearer ${onboarding}`).set('Idempotency-Key', randomUUID()).send(body);
    expect(response.status).toBe(202);
    return response.body as { id: string; name: string; tier: string; status: string };
  }

  beforeAll(async () => {
    f = await startApiFixture(backend);
    onboarding = await f.token('onboarding');
    platformAdmin = await f.token('platform-admin');
  });
  afterAll(async () => {
    await f.close();
  });

  describe('the onboarding walk-through', () => {
    it('answers health, catalogs and the OpenAPI document without a token', async () => {
      expect((await f.api.get('/healthz')).body).toEqual({ status: 'ok' });
      const plans = await f.api.get('/v1/plans');
      expect(plans.body.items.map((p: { name: string }) => p.name)).toEqual(['trial', 'basic', 'standard', 'premium', 'enterprise']);
      const tiers = await f.api.get('/v1/tiers');
      expect(tiers.body.items.map((t: { name: string }) => t.name)).toEqual(['pool', 'bridge', 'silo']);
      const openapi = await f.api.get('/openapi.json');
      expect(openapi.body.openapi).toBe('3.1.0');
      expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/tenants', '/v1/tenants/{id}', '/v1/tier-decisions', '/v1/tenants/{id}/users']));
      // The document is generated from the schemas that validate: unknown fields are refused there too.
      expect(openapi.body.components.schemas.TenantCreate.additionalProperties).toBe(false);
    });

    it('decides a tier with reasons and an estimate, without side effects', async () => {
      const response = await f.api
        .post('/v1/tier-decisions')
        .set('Authorization', `Bearer ${onboarding}`)
        .send({ plan: 'standard', requirements: { compliance: ['hipaa'] } });
      expect(response.status).toBe(200);
      expect(response.body.tier).toBe('bridge');
      expect(response.body.reasons.join(' ')).toMatch(/hipaa/);
      expect(response.body.monthlyEstimateUsd).toBeGreaterThan(299);
      const tenants = await f.db.knex('tenants').count({ n: '*' });
      expect(Number(tenants[0]?.n)).toBe(0);
    });

    it('registers a tenant, scopes it to its own users, changes its plan and offboards it', async () => {
      const body = registration({ plan: 'standard', displayName: 'Acme Analytics' });
      const created = await f.api.post('/v1/tenants').set('Authorization', `Bearer ${onboarding}`).set('Idempotency-Key', 'walk-1').send(body);
      expect(created.status).toBe(202);
      expect(created.headers.location).toBe(`/v1/tenants/${created.body.id}`);
      expect(created.body).toMatchObject({ name: body.name, displayName: 'Acme Analytics', plan: 'standard', tier: 'pool', status: 'PENDING' });
      const tenantId = created.body.id as string;

      const admin = await f.token('tenant-admin', tenantId);
      const own = await f.api.get(`/v1/tenants/${tenantId}`).set('Authorization', `Bearer ${admin}`);
      expect(own.status).toBe(200);
      expect(own.body.id).toBe(tenantId);

      const other = await register();
      const listed = await f.api.get('/v1/tenants').set('Authorization', `Bearer ${admin}`);
      expect(listed.body.items.map((t: { id: string }) => t.id)).toEqual([tenantId]);
      const foreign = await f.api.get(`/v1/tenants/${other.id}`).set('Authorization', `Bearer ${admin}`);
      expect(foreign.status).toBe(404);
      expect(foreign.type).toMatch(PROBLEM);

      const users = await f.api.get(`/v1/tenants/${tenantId}/users`).set('Authorization', `Bearer ${admin}`);
      expect(users.body.items).toEqual([expect.objectContaining({ email: 'admin@example.com', role: 'tenant-admin' })]);
      const added = await f.api.post(`/v1/tenants/${tenantId}/users`).set('Authorization', `Bearer ${admin}`).send({ email: 'Ana@Example.com', role: 'tenant-user' });
      expect(added.status).toBe(201);
      expect(added.body.email).toBe('ana@example.com');
      const duplicate = await f.api.post(`/v1/tenants/${tenantId}/users`).set('Authorization', `Bearer ${admin}`).send({ email: 'ana@example.com', role: 'tenant-user' });
      expect(duplicate.status).toBe(409);
      const tenantUser = await f.token('tenant-user', tenantId);
      const notAllowed = await f.api.post(`/v1/tenants/${tenantId}/users`).set('Authorization', `Bearer ${tenantUser}`).send({ email: 'b@example.com', role: 'tenant-user' });
      expect(notAllowed.status).toBe(403);

      const upgraded = await f.api.patch(`/v1/tenants/${tenantId}`).set('Authorization', `Bearer ${admin}`).send({ plan: 'premium' });
      expect(upgraded.status).toBe(200);
      expect(upgraded.body.tenant).toMatchObject({ plan: 'premium', tier: 'pool' });
      expect(upgraded.body.tierChange).toMatchObject({ from: 'pool', to: 'bridge', status: 'REQUESTED' });

      const offboarding = await f.api.delete(`/v1/tenants/${tenantId}`).set('Authorization', `Bearer ${admin}`);
      expect(offboarding.status).toBe(202);
      expect(offboarding.body.status).toBe('OFFBOARDING');
      expect((await f.api.delete(`/v1/tenants/${tenantId}`).set('Authorization', `Bearer ${admin}`)).status).toBe(409);

      const history = await f.api.get(`/v1/tenants/${tenantId}/history`).set('Authorization', `Bearer ${admin}`);
      expect(history.body.items.map((c: { to: string }) => c.to)).toEqual(['PENDING', 'OFFBOARDING']);

      const events = await OutboxEvent.query(f.db.knex).where('tenant_id', tenantId).orderBy('id');
      expect(events.map((e) => e.type)).toEqual(['tenant.registered', 'tenant.status_changed', 'user.created', 'user.created', 'tenant.plan_changed', 'tenant.status_changed']);
      expect(events[0]?.event).toMatchObject({ specversion: '1.0', subject: tenantId, type: 'tenant.registered' });
      const billing = await f.db.knex('billing_records').where('tenant_id', tenantId).orderBy('created_at');
      expect(billing).toHaveLength(2);
    });

    it('lists tenants for the platform with filters and cursor pagination', async () => {
      const names = new Set<string>();
      for (let i = 0; i < 5; i += 1) names.add((await register(registration({ plan: 'premium' }))).name);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string> = { tier: 'bridge', plan: 'premium', limit: '2', ...(cursor ? { cursor } : {}) };
        const page = await f.api.get('/v1/tenants').query(query).set('Authorization', `Bearer ${platformAdmin}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((t: { name: string; tier: string }) => t.name));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      expect(seen.filter((name) => names.has(name))).toHaveLength(5);
      expect(new Set(seen).size).toBe(seen.length);
    });
  });

  describe('bad input', () => {
    type Case = { case: string; status: number; send: () => Promise<{ status: number; type: string; body: Record<string, unknown> }>; pointer?: string };
    const post = (body: string | object, contentType = 'application/json') =>
      f.api.post('/v1/tenants').set('Authorization', `Bearer ${onboarding}`).set('Idempotency-Key', randomUUID()).set('Content-Type', contentType).send(body);
    const cases: Case[] = [
      { case: 'malformed JSON', status: 400, send: () => post('{"name": "acme",') },
      { case: 'a wrong type', status: 400, pointer: '#/plan', send: () => post(registration({ plan: 5 })) },
      { case: 'an unknown field', status: 400, pointer: '#/color', send: () => post(registration({ color: 'blue' })) },
      { case: 'a missing field', status: 400, pointer: '#/adminEmail', send: () => post({ name: 'acme-missing', plan: 'basic' }) },
      { case: 'a bad tenant name', status: 400, pointer: '#/name', send: () => post(registration({ name: 'Acme Inc' })) },
      { case: 'an oversize body', status: 413, send: () => post(registration({ displayName: 'x'.repeat(100_000) })) },
      { case: 'a wrong content type', status: 415, send: () => post('name=acme', 'application/x-www-form-urlencoded') },
      { case: 'an unknown plan', status: 422, pointer: '#/plan', send: () => post(registration({ plan: 'platinum' })) },
      { case: 'an impossible override', status: 422, pointer: '#/tierOverride', send: () => post(registration({ plan: 'trial', tierOverride: 'silo' })) },
      { case: 'requirements the plan cannot meet', status: 422, send: () => post(registration({ plan: 'basic', requirements: { compliance: ['pci'] } })) },
      {
        case: 'no Idempotency-Key',
        status: 400,
        pointer: '#/idempotency-key',
        send: () => f.api.post('/v1/tenants').set('Authorization', `Bearer ${onboarding}`).send(registration()),
      },
      { case: 'no token', status: 401, send: () => f.api.get('/v1/tenants') },
      { case: 'a malformed token', status: 401, send: () => f.api.get('/v1/tenants').set('Authorization', 'Bearer not.a.jwt') },
      { case: 'an expired token', status: 401, send: async () => f.api.get('/v1/tenants').set('Authorization', `Bearer ${await expiredCopyOf(platformAdmin)}`) },
      { case: 'a token signed by another key', status: 401, send: async () => f.api.get('/v1/tenants').set('Authorization', `Bearer ${await foreignCopyOf(platformAdmin)}`) },
      { case: 'a tenant role registering', status: 403, send: async () => post(registration()).set('Authorization', `Bearer ${await f.token('tenant-admin', randomUUID())}`) },
      { case: 'a malformed tenant id', status: 400, pointer: '#/id', send: () => f.api.get('/v1/tenants/42').set('Authorization', `Bearer ${platformAdmin}`) },
      { case: 'an unknown tenant id', status: 404, send: () => f.api.get(`/v1/tenants/${randomUUID()}`).set('Authorization', `Bearer ${platformAdmin}`) },
      {
        case: "another tenant's id",
        status: 404,
        send: async () => {
          const victim = await register();
          return f.api.get(`/v1/tenants/${victim.id}`).set('Authorization', `Bearer ${await f.token('tenant-admin', randomUUID())}`);
        },
      },
      { case: 'a bad page size', status: 400, pointer: '#/limit', send: () => f.api.get('/v1/tenants?limit=1000').set('Authorization', `Bearer ${platformAdmin}`) },
      { case: 'a forged cursor', status: 400, pointer: '#/cursor', send: () => f.api.get('/v1/tenants?cursor=abc').set('Authorization', `Bearer ${platformAdmin}`) },
      { case: 'an empty patch', status: 400, send: async () => f.api.patch(`/v1/tenants/${(await register()).id}`).set('Authorization', `Bearer ${platformAdmin}`).send({}) },
      { case: 'an unknown route', status: 404, send: () => f.api.get('/v1/nothing-here') },
      { case: 'an unsupported method', status: 405, send: () => f.api.put('/v1/tiers').send({}) },
    ];

    it.each(cases)('$case answers $status with problem+json', async ({ status, send, pointer }) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.type).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
      if (pointer) expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
      expect(JSON.stringify(response.body)).not.toMatch(/\bselect\b|\binsert\b|at .*\.ts:\d+/i);
    });
  });

  describe('idempotency and concurrency', () => {
    it('makes exactly one tenant of 50 concurrent identical registrations with one key', async () => {
      const body = registration();
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => f.api.post('/v1/tenants').set('Authorization', `Bearer ${onboarding}`).set('Idempotency-Key', `same-${body.name}`).send(body)),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
      expect(new Set(responses.map((r) => r.body.id as string)).size).toBe(1);
      expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
      const rows = await f.db.knex('tenants').where('name', body.name);
      expect(rows).toHaveLength(1);
      const events = await f.db.knex('outbox').where({ tenant_id: rows[0].id, type: 'tenant.registered' });
      expect(events).toHaveLength(1);

      const changed = await f.api.post('/v1/tenants').set('Authorization', `Bearer ${onboarding}`).set('Idempotency-Key', `same-${body.name}`).send({ ...body, plan: 'premium' });
      expect(changed.status).toBe(422);
      expect(changed.type).toMatch(PROBLEM);
    });

    it('answers one 202 and 49 409s to 50 concurrent registrations of one name with different keys', async () => {
      const name = `race-${randomUUID().slice(0, 8)}`;
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => f.api.post('/v1/tenants').set('Authorization', `Bearer ${onboarding}`).set('Idempotency-Key', randomUUID()).send(registration({ name }))),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
      expect(await f.db.knex('tenants').where('name', name)).toHaveLength(1);
    });
  });
});
