import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTOR_EVENT_SOURCE, JobExecutor, JobRepository, createJobsTable } from '../../data-plane/index.js';
import {
  ensureKitUserPool,
  issueLocalToken,
  localDynamoDbClientConfig,
  startLocalCognito,
  startLocalDynamoDb,
  type KitRole,
  type KitUserPool,
  type LocalCognito,
  type LocalDynamoDb,
} from '../../local-cloud/index.js';
import { TIER_NAMES, TIERS, type TierName } from '../../tenant-tiers/index.js';
import { createTokenVerifier } from '../auth/token-verifier.js';
import { JOB_MANAGER_EVENT_SOURCE, createJobManagerApp } from './app.js';
import type { TenantInfo } from './job-service.js';

const PROBLEM = /application\/problem\+json/;

let cognito: LocalCognito;
let pool: KitUserPool;
let dynamo: LocalDynamoDb;
let documents: DynamoDBDocumentClient;
let tableName: string;
let api: ReturnType<typeof supertest>;
const tenants = new Map<string, TenantInfo>();
const tokens = new Map<string, string>();

async function token(role: KitRole, tenantId?: string): Promise<string> {
  const key = `${role}/${tenantId ?? ''}`;
  let value = tokens.get(key);
  if (!value) {
    value = (await issueLocalToken(cognito, pool, { role, ...(tenantId ? { tenantId } : {}) })).idToken;
    tokens.set(key, value);
  }
  return value;
}

function addTenant(tier: TierName, status = 'ACTIVE', accountId?: string): { tenantId: string; name: string } {
  const tenantId = randomUUID();
  const name = `t-${tenantId.slice(0, 8)}`;
  tenants.set(tenantId, { tier, name, status, ...(accountId ? { accountId } : {}) });
  return { tenantId, name };
}

/** A tenant token for a new ACTIVE tenant of the tier, with one 1 GiB dataset. */
async function tenantWithDataset(tier: TierName = 'pool'): Promise<{ tenantId: string; name: string; auth: string; datasetId: string }> {
  const tenant = addTenant(tier, 'ACTIVE', '210987654321');
  const auth = `Bearer ${await token('tenant-user', tenant.tenantId)}`;
  const object = await api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'raw/orders.csv', bytes: 1024 ** 3, contentType: 'text/csv' });
  expect(object.status).toBe(201);
  const dataset = await api.post('/v1/datalake/datasets').set('Authorization', auth).send({ name: 'orders', objectKeys: ['raw/orders.csv'] });
  expect(dataset.status).toBe(201);
  return { ...tenant, auth, datasetId: dataset.body.id as string };
}

function submit(auth: string, body: Record<string, unknown>, key: string = randomUUID(), query = '') {
  return api.post(`/v1/jobs${query}`).set('Authorization', auth).set('Idempotency-Key', key).send(body);
}

beforeAll(async () => {
  [cognito, dynamo] = await Promise.all([startLocalCognito(), startLocalDynamoDb()]);
  pool = await ensureKitUserPool(cognito);
  const raw = new DynamoDBClient(localDynamoDbClientConfig(dynamo));
  documents = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  tableName = `jobs-${randomUUID().slice(0, 8)}`;
  await createJobsTable(raw, tableName);
  const app = createJobManagerApp({
    repository: new JobRepository({ client: documents, tableName, eventSource: JOB_MANAGER_EVENT_SOURCE }),
    tenantLookup: (tenantId) => Promise.resolve(tenants.get(tenantId) ?? null),
    verifier: createTokenVerifier({ jwksUrl: pool.jwksUrl, issuer: pool.issuer, audience: pool.clientId }),
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  api = supertest(app.callback());
});
afterAll(async () => {
  documents?.destroy();
  await Promise.all([cognito?.stop(), dynamo?.stop()]);
});

describe('Job Manager API', () => {
  it('serves its OpenAPI document and health without a token', async () => {
    expect((await api.get('/healthz')).body).toEqual({ status: 'ok' });
    const openapi = await api.get('/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel', '/v1/datalake/objects', '/v1/datalake/datasets', '/v1/datalake/datasets/{id}']),
    );
    expect(openapi.body.components.schemas.JobCreate.additionalProperties).toBe(false);
  });

  it.each(TIER_NAMES)('places a %s tenant\'s job by the tier table and accepts vCPU up to the tier\'s maxVcpu only', async (tier) => {
    const { name, auth, datasetId } = await tenantWithDataset(tier);
    const maxVcpu = TIERS[tier].maxVcpu;
    const accepted = await submit(auth, { steps: ['load', 'process'], inputDatasetId: datasetId, requestedVcpu: maxVcpu });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.location).toBe(`/v1/jobs/${accepted.body.id}`);
    expect(accepted.body).toMatchObject({ status: 'QUEUED', inputBytes: 1024 ** 3, placement: { tier, isolation: TIERS[tier].isolation, namespace: `tenant-${name}` } });
    const { nodeSelector, accountId } = accepted.body.placement;
    expect(nodeSelector).toEqual(TIERS[tier].isolation === 'node-group' ? { 'saas-kit/tenant': name } : null);
    expect(accountId).toBe(TIERS[tier].isolation === 'account' ? '210987654321' : null);

    for (const requestedVcpu of [maxVcpu + 0.5, 0, -1]) {
      const refused = await submit(auth, { steps: ['load'], inputDatasetId: datasetId, requestedVcpu });
      expect(refused.status).toBe(422);
      expect(refused.type).toMatch(PROBLEM);
      expect(refused.body.errors).toEqual([expect.objectContaining({ pointer: '#/requestedVcpu' })]);
      expect(refused.body.detail).toContain(`at most ${maxVcpu}`);
    }
  });

  it('keeps tenants apart: another tenant\'s job is 404 to get and to cancel, and absent from its list', async () => {
    const a = await tenantWithDataset();
    const b = await tenantWithDataset();
    const job = (await submit(a.auth, { steps: ['load'], inputDatasetId: a.datasetId, requestedVcpu: 1 })).body as { id: string };
    for (const response of [await api.get(`/v1/jobs/${job.id}`).set('Authorization', b.auth), await api.post(`/v1/jobs/${job.id}/cancel`).set('Authorization', b.auth)]) {
      expect(response.status).toBe(404);
      expect(response.type).toMatch(PROBLEM);
    }
    expect((await api.get('/v1/jobs').set('Authorization', b.auth)).body.items).toEqual([]);
    // Nor can B use A's dataset as input, or delete it.
    expect((await submit(b.auth, { steps: ['load'], inputDatasetId: a.datasetId, requestedVcpu: 1 })).status).toBe(422);
    expect((await api.delete(`/v1/datalake/datasets/${a.datasetId}`).set('Authorization', b.auth)).status).toBe(404);
    // The job is untouched, and a platform-admin sees it by naming the tenant.
    const admin = `Bearer ${await token('platform-admin')}`;
    const seen = await api.get(`/v1/jobs/${job.id}?tenantId=${a.tenantId}`).set('Authorization', admin);
    expect(seen.body).toMatchObject({ id: job.id, status: 'QUEUED' });
    expect((await api.get(`/v1/jobs?tenantId=${b.tenantId}`).set('Authorization', admin)).body.items).toEqual([]);
  });

  it('answers a repeated Idempotency-Key with the same job, and refuses the key with another body', async () => {
    const { auth, datasetId } = await tenantWithDataset();
    const body = { steps: ['load', 'persist'], inputDatasetId: datasetId, requestedVcpu: 2 };
    const first = await submit(auth, body, 'same-key');
    const again = await submit(auth, body, 'same-key');
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const other = await submit(auth, { ...body, requestedVcpu: 3 }, 'same-key');
    expect(other.status).toBe(422);
    expect(other.body.title).toBe('Idempotency key reused');
    expect((await api.get('/v1/jobs').set('Authorization', auth)).body.items).toHaveLength(1);
  });

  it('cancels a queued job at once (200), a running one by request (202), and refuses a finished one (409)', async () => {
    const { auth, datasetId, name } = await tenantWithDataset();
    const queued = (await submit(auth, { steps: ['load'], inputDatasetId: datasetId, requestedVcpu: 1 })).body as { id: string };
    const cancelled = await api.post(`/v1/jobs/${queued.id}/cancel`).set('Authorization', auth);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', usage: { durationMs: 0, vcpuMs: 0, bytesRead: 0, bytesWritten: 0 } });
    const again = await api.post(`/v1/jobs/${queued.id}/cancel`).set('Authorization', auth);
    expect(again.status).toBe(409);
    expect(again.type).toMatch(PROBLEM);

    const running = (await submit(auth, { steps: ['load', 'transform'], inputDatasetId: datasetId, requestedVcpu: 1 })).body as { id: string };
    const executorRepo = new JobRepository({ client: documents, tableName, eventSource: EXECUTOR_EVENT_SOURCE });
    expect((await executorRepo.claimNext(`namespace/tenant-${name}`, 'w1', 60_000))?.jobId).toBe(running.id);
    const requested = await api.post(`/v1/jobs/${running.id}/cancel`).set('Authorization', auth);
    expect(requested.status).toBe(202);
    expect(requested.body.status).toBe('CANCELLING');
  });

  it('runs a submitted job through the executor and shows its end, usage and status filter', async () => {
    const { auth, datasetId, name } = await tenantWithDataset('bridge');
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      ids.push((await submit(auth, { steps: ['load', 'transform', 'persist'], inputDatasetId: datasetId, requestedVcpu: 4 })).body.id as string);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const executor = new JobExecutor({
      repository: new JobRepository({ client: documents, tableName, eventSource: EXECUTOR_EVENT_SOURCE }),
      placementKey: `node-group/tenant-${name}`,
      timeScale: 0.0001,
    });
    const ran = await executor.runOnce();
    expect(ran?.jobId).toBe(ids[0]);
    const done = await api.get(`/v1/jobs/${ids[0]}`).set('Authorization', auth);
    expect(done.body).toMatchObject({ status: 'SUCCEEDED', completedSteps: 3, attempts: 1, usage: { bytesRead: 1024 ** 3, bytesWritten: Math.round(1024 ** 3 * 0.8) } });
    expect(done.body.usage.vcpuMs).toBeGreaterThan(0);

    const page1 = await api.get('/v1/jobs?limit=2').set('Authorization', auth);
    const page2 = await api.get(`/v1/jobs?limit=2&cursor=${page1.body.nextCursor as string}`).set('Authorization', auth);
    expect([...page1.body.items, ...page2.body.items].map((job: { id: string }) => job.id)).toEqual([...ids].reverse());
    const succeeded = await api.get('/v1/jobs?status=SUCCEEDED').set('Authorization', auth);
    expect(succeeded.body.items.map((job: { id: string }) => job.id)).toEqual([ids[0]]);
  });

  it('sizes datasets from their objects, lists and deletes them', async () => {
    const { auth, datasetId } = await tenantWithDataset();
    await api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'raw/more.csv', bytes: 500 });
    const created = await api.post('/v1/datalake/datasets').set('Authorization', auth).send({ name: 'both', objectKeys: ['raw/orders.csv', 'raw/more.csv'] });
    expect(created.body).toMatchObject({ sizeBytes: 1024 ** 3 + 500, status: 'ACTIVE' });
    expect((await api.post('/v1/datalake/datasets').set('Authorization', auth).send({ name: 'both', objectKeys: ['raw/more.csv'] })).status).toBe(409);
    const listed = await api.get('/v1/datalake/datasets').set('Authorization', auth);
    expect(listed.body.items.map((d: { id: string }) => d.id).sort()).toEqual([datasetId, created.body.id].sort());
    const deleted = await api.delete(`/v1/datalake/datasets/${datasetId}`).set('Authorization', auth);
    expect(deleted.body).toMatchObject({ id: datasetId, status: 'DELETED' });
    expect((await api.get('/v1/datalake/datasets').set('Authorization', auth)).body.items.map((d: { id: string }) => d.id)).toEqual([created.body.id]);
  });

  it('lets only ACTIVE tenants submit jobs or write to their lake (409)', async () => {
    const { tenantId } = addTenant('silo', 'PROVISIONING');
    const auth = `Bearer ${await token('tenant-admin', tenantId)}`;
    const object = await api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'a', bytes: 1 });
    expect(object.status).toBe(409);
    expect(object.body.detail).toMatch(/PROVISIONING: only ACTIVE tenants/);
    expect((await submit(auth, { steps: ['load'], inputDatasetId: randomUUID(), requestedVcpu: 1 })).status).toBe(409);
  });

  describe('refuses bad input with problem+json, never a 500', () => {
    let auth: string;
    let datasetId: string;
    let foreignTenant: string;
    beforeAll(async () => {
      ({ auth, datasetId } = await tenantWithDataset());
      foreignTenant = randomUUID();
    });
    const job = (overrides: Record<string, unknown>) => ({ steps: ['load'], inputDatasetId: '<dataset>', requestedVcpu: 1, ...overrides });

    const cases: readonly { name: string; status: number; send: () => supertest.Test | Promise<supertest.Response> }[] = [
      { name: 'no token', status: 401, send: () => api.get('/v1/jobs') },
      { name: 'a malformed token', status: 401, send: () => api.get('/v1/jobs').set('Authorization', 'Bearer x.y.z') },
      { name: 'no Idempotency-Key', status: 400, send: () => api.post('/v1/jobs').set('Authorization', auth).send(job({ inputDatasetId: datasetId })) },
      { name: 'a body that is not JSON', status: 415, send: () => submit(auth, {}).set('Content-Type', 'text/plain').send('steps=load') },
      { name: 'malformed JSON', status: 400, send: () => api.post('/v1/jobs').set('Authorization', auth).set('Idempotency-Key', 'k').set('Content-Type', 'application/json').send('{"steps":') },
      { name: 'a body over the limit', status: 413, send: () => submit(auth, job({ inputDatasetId: datasetId, pad: 'x'.repeat(70_000) })) },
      { name: 'an unknown field', status: 400, send: () => submit(auth, job({ inputDatasetId: datasetId, priority: 'high' })) },
      { name: 'no steps', status: 400, send: () => submit(auth, job({ inputDatasetId: datasetId, steps: [] })) },
      { name: 'steps out of order', status: 400, send: () => submit(auth, job({ inputDatasetId: datasetId, steps: ['persist', 'load'] })) },
      { name: 'a step twice', status: 400, send: () => submit(auth, job({ inputDatasetId: datasetId, steps: ['load', 'load'] })) },
      { name: 'an unknown step', status: 400, send: () => submit(auth, job({ inputDatasetId: datasetId, steps: ['compile'] })) },
      { name: 'vCPU as a string', status: 400, send: () => submit(auth, job({ inputDatasetId: datasetId, requestedVcpu: '2' })) },
      { name: 'no input dataset', status: 400, send: () => submit(auth, { steps: ['load'], requestedVcpu: 1 }) },
      { name: 'an input dataset id that is no UUID', status: 400, send: () => submit(auth, job({ inputDatasetId: 'orders' })) },
      { name: 'an input dataset that does not exist', status: 422, send: () => submit(auth, job({ inputDatasetId: randomUUID() })) },
      { name: 'a job id that is no UUID', status: 400, send: () => api.get('/v1/jobs/42').set('Authorization', auth) },
      { name: 'an unknown job', status: 404, send: () => api.get(`/v1/jobs/${randomUUID()}`).set('Authorization', auth) },
      { name: 'cancelling an unknown job', status: 404, send: () => api.post(`/v1/jobs/${randomUUID()}/cancel`).set('Authorization', auth) },
      { name: 'an unknown status filter', status: 400, send: () => api.get('/v1/jobs?status=DONE').set('Authorization', auth) },
      { name: 'a limit of 0', status: 400, send: () => api.get('/v1/jobs?limit=0').set('Authorization', auth) },
      { name: 'a forged cursor', status: 400, send: () => api.get('/v1/jobs?cursor=Zm9yZ2Vk').set('Authorization', auth) },
      { name: 'a dataset cursor on jobs', status: 400, send: () => api.get(`/v1/jobs?cursor=${Buffer.from(`DATASET#${randomUUID()}`).toString('base64url')}`).set('Authorization', auth) },
      { name: 'a tenant token naming another tenant', status: 403, send: () => api.get(`/v1/jobs?tenantId=${foreignTenant}`).set('Authorization', auth) },
      { name: 'a platform-admin without tenantId', status: 400, send: async () => api.get('/v1/jobs').set('Authorization', `Bearer ${await token('platform-admin')}`) },
      { name: 'an onboarding token', status: 403, send: async () => api.get(`/v1/jobs?tenantId=${foreignTenant}`).set('Authorization', `Bearer ${await token('onboarding')}`) },
      { name: 'a platform-admin naming an unknown tenant for a write', status: 404, send: async () => api.post(`/v1/datalake/objects?tenantId=${foreignTenant}`).set('Authorization', `Bearer ${await token('platform-admin')}`).send({ key: 'a', bytes: 1 }) },
      { name: 'an upper-case tenantId', status: 400, send: () => api.get(`/v1/jobs?tenantId=${foreignTenant.toUpperCase()}`).set('Authorization', auth) },
      { name: 'negative object bytes', status: 400, send: () => api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'a', bytes: -1 }) },
      { name: 'fractional object bytes', status: 400, send: () => api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'a', bytes: 1.5 }) },
      { name: 'an object key starting with /', status: 400, send: () => api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: '/etc/passwd', bytes: 1 }) },
      { name: 'an object key with a control character', status: 400, send: () => api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'a\u0000b', bytes: 1 }) },
      { name: 'an object key over 1000 bytes of UTF-8', status: 400, send: () => api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'é'.repeat(501), bytes: 1 }) },
      { name: 'a content type that is no media type', status: 400, send: () => api.post('/v1/datalake/objects').set('Authorization', auth).send({ key: 'a', bytes: 1, contentType: 'csv' }) },
      { name: 'a dataset without objects', status: 400, send: () => api.post('/v1/datalake/datasets').set('Authorization', auth).send({ name: 'd', objectKeys: [] }) },
      { name: 'a dataset name with a space', status: 400, send: () => api.post('/v1/datalake/datasets').set('Authorization', auth).send({ name: 'my data', objectKeys: ['raw/orders.csv'] }) },
      { name: 'a dataset of unregistered objects', status: 422, send: () => api.post('/v1/datalake/datasets').set('Authorization', auth).send({ name: 'd', objectKeys: ['raw/none.csv'] }) },
      { name: 'deleting an unknown dataset', status: 404, send: () => api.delete(`/v1/datalake/datasets/${randomUUID()}`).set('Authorization', auth) },
      { name: 'an unknown route', status: 404, send: () => api.get('/v1/jobz').set('Authorization', auth) },
      { name: 'a method the route does not take', status: 405, send: () => api.put('/v1/jobs').set('Authorization', auth).send({}) },
    ];

    it.each(cases)('$name -> $status', async ({ status, send }) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.type).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
    });
  });
});
