import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../testing/api-fixture.js';
import { BACKENDS } from '../testing/databases.js';
import { Tenant } from '../tenant-manager/models/index.js';
import { WorkflowEngine } from './engine.js';
import type { ProvisioningDeps } from './options.js';
import { createLocalProviders } from './providers/local/index.js';
import { FakeIdentity, renderManifests, synthesizeStack, validateManifests } from './testing/fakes.js';

const PROBLEM = /application\/problem\+json/;

describe.each(BACKENDS)('provisioning API on %s', (backend) => {
  let f: ApiFixture;
  let dataDir: string;
  let onboarding: string;
  let platformAdmin: string;

  beforeAll(async () => {
    f = await startApiFixture(backend);
    dataDir = await mkdtemp(join(tmpdir(), 'saas-kit-provisioning-api-'));
    onboarding = await f.token('onboarding');
    platformAdmin = await f.token('platform-admin');
  });
  afterAll(async () => {
    await f?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function register(tierOverride = 'pool'): Promise<string> {
    const name = `t-${randomUUID().slice(0, 8)}`;
    const response = await f.api
      .post('/v1/tenants')
      .set('Authorization', `Bearer ${onboarding}`)
      .set('Idempotency-Key', randomUUID())
      .send({ name, plan: 'enterprise', tierOverride, adminEmail: `admin@${name}.example` });
    expect(response.status).toBe(202);
    return response.body.id as string;
  }

  /** Runs due steps in this process until none is left. */
  async function drain(overrides: Partial<ProvisioningDeps> = {}): Promise<void> {
    const providers = createLocalProviders({ dataDir, identity: new FakeIdentity(), organizations: { creationDelayMs: 0 }, stacks: { delayMs: 0 } });
    const engine = new WorkflowEngine(f.db, { providers, synthesizeStack, renderManifests, validateManifests, pollIntervalMs: 0, backoff: { baseMs: 0, maxMs: 0 }, ...overrides });
    while ((await engine.runNext('api-test')) !== null) {
      // each call runs one step
    }
  }

  it('shows the onboarding workflow of a registered tenant, to the platform and to the tenant itself only', async () => {
    const tenantId = await register('silo');
    const platform = await f.api.get(`/v1/tenants/${tenantId}/provisioning`).set('Authorization', `Bearer ${platformAdmin}`);
    expect(platform.status).toBe(200);
    expect(platform.body.items).toHaveLength(1);
    expect(platform.body.items[0]).toMatchObject({ kind: 'onboard', status: 'PENDING', error: null });
    expect(platform.body.items[0].steps.map((s: { name: string }) => s.name)).toEqual(['identity', 'account', 'infrastructure', 'kubernetes', 'activation']);

    const own = await f.api.get(`/v1/tenants/${tenantId}/provisioning`).set('Authorization', `Bearer ${await f.token('tenant-user', tenantId)}`);
    expect(own.status).toBe(200);
    expect(own.body).toEqual(platform.body);

    const other = await f.api.get(`/v1/tenants/${tenantId}/provisioning`).set('Authorization', `Bearer ${await f.token('tenant-admin', randomUUID())}`);
    expect(other.status).toBe(404);
    expect(other.type).toMatch(PROBLEM);

    const openapi = await f.api.get('/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/tenants/{id}/provisioning', '/v1/tenants/{id}/provisioning/retry']));
  });

  it('retries a failed step for the tenant admin, and answers 409 when nothing failed', async () => {
    const tenantId = await register('pool');
    const admin = await f.token('tenant-admin', tenantId);
    const early = await f.api.post(`/v1/tenants/${tenantId}/provisioning/retry`).set('Authorization', `Bearer ${admin}`);
    expect(early.status).toBe(409);
    expect(early.type).toMatch(PROBLEM);
    expect(early.body.detail).toMatch(/nothing to retry/);

    await drain({
      maxAttempts: 1,
      synthesizeStack: () => {
        throw new Error('synthesis failed: no VPC for the tenant');
      },
    });
    const failed = await f.api.get(`/v1/tenants/${tenantId}/provisioning`).set('Authorization', `Bearer ${admin}`);
    expect(failed.body.items[0]).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/infrastructure.*no VPC/) });
    expect(failed.body.items[0].steps[1]).toMatchObject({ name: 'infrastructure', status: 'FAILED', attempts: 1, lastError: expect.stringMatching(/no VPC/) });
    expect((await Tenant.query(f.db.knex).findById(tenantId))?.status).toBe('FAILED');

    const user = await f.api.post(`/v1/tenants/${tenantId}/provisioning/retry`).set('Authorization', `Bearer ${await f.token('tenant-user', tenantId)}`);
    expect(user.status).toBe(403);
    const onboardingClient = await f.api.post(`/v1/tenants/${tenantId}/provisioning/retry`).set('Authorization', `Bearer ${onboarding}`);
    expect(onboardingClient.status).toBe(403);

    const retried = await f.api.post(`/v1/tenants/${tenantId}/provisioning/retry`).set('Authorization', `Bearer ${admin}`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ status: 'RUNNING', error: null });
    expect(retried.body.steps[1]).toMatchObject({ status: 'PENDING', attempts: 0, lastError: null });
    expect((await Tenant.query(f.db.knex).findById(tenantId))?.status).toBe('PROVISIONING');

    await drain();
    expect((await Tenant.query(f.db.knex).findById(tenantId))?.status).toBe('ACTIVE');
    const done = await f.api.get(`/v1/tenants/${tenantId}/provisioning`).set('Authorization', `Bearer ${platformAdmin}`);
    expect(done.body.items[0].status).toBe('SUCCEEDED');
  });

  describe('bad input', () => {
    const cases: { case: string; status: number; pointer?: string; send: () => Promise<{ status: number; type: string; body: Record<string, unknown> }> }[] = [
      { case: 'a malformed tenant id', status: 400, pointer: '#/id', send: () => f.api.get('/v1/tenants/42/provisioning').set('Authorization', `Bearer ${platformAdmin}`) },
      { case: 'a malformed tenant id on retry', status: 400, pointer: '#/id', send: () => f.api.post('/v1/tenants/not-a-uuid/provisioning/retry').set('Authorization', `Bearer ${platformAdmin}`) },
      { case: 'no token', status: 401, send: () => f.api.get(`/v1/tenants/${randomUUID()}/provisioning`) },
      { case: 'an unknown tenant', status: 404, send: () => f.api.get(`/v1/tenants/${randomUUID()}/provisioning`).set('Authorization', `Bearer ${platformAdmin}`) },
      { case: 'a retry of an unknown tenant', status: 404, send: () => f.api.post(`/v1/tenants/${randomUUID()}/provisioning/retry`).set('Authorization', `Bearer ${platformAdmin}`) },
      { case: 'a wrong method', status: 405, send: () => f.api.delete(`/v1/tenants/${randomUUID()}/provisioning`).set('Authorization', `Bearer ${platformAdmin}`) },
    ];
    it.each(cases)('$case answers $status with problem+json', async ({ status, pointer, send }) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.type).toMatch(PROBLEM);
      if (pointer) expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
    });
  });
});
