import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../bin/config.js';
import { startControlPlane, type RunningControlPlane } from '../bin/start.js';
import { localKinesisClientConfig, localS3ClientConfig } from '../local-cloud/index.js';

const run = promisify(execFile);

/** The README's walk-through: `npm start`'s composition, tokens from the CLI, the onboarding calls. */
describe('the README walk-through', () => {
  let dataDir: string;
  let kit: RunningControlPlane;
  let tenantId: string;
  let tenantAdmin: string;

  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const value = await read();
      if (done(value) || attempt === 200) return value;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function cliToken(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/saas-kit.ts', 'token', ...args], { env: { ...process.env, SAAS_KIT_DATA_DIR: dataDir } });
    return stdout.trim();
  }

  async function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}, base = kit.url) {
    const response = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'saas-kit-walkthrough-'));
    // The README's `npm start`, with every port left to the system so tests can run side by side.
    const env = { SAAS_KIT_DATA_DIR: dataDir, PORT: '0', JOB_MANAGER_PORT: '0', LOCAL_COGNITO_PORT: '0', LOCAL_KINESIS_PORT: '0', LOCAL_DYNAMODB_PORT: '0', LOCAL_S3_PORT: '0' };
    const timing = { EXECUTOR_TIME_SCALE: '0.01', LOCAL_ACCOUNT_CREATION_MS: '100', LOCAL_STACK_DEPLOY_MS: '100' };
    kit = await startControlPlane(loadConfig({ ...env, ...timing }).controlPlane, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await kit.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gets a token, decides a tier, onboards a tenant and reads its status as its admin', async () => {
    const token = await cliToken('--role', 'onboarding');
    expect(token.split('.')).toHaveLength(3);

    const decision = await call('POST', '/v1/tier-decisions', token, { plan: 'enterprise', requirements: { compliance: ['pci'], dataResidency: 'eu-central-1' } });
    expect(decision).toMatchObject({ status: 200, body: { tier: 'silo' } });

    const body = { name: 'acme-analytics', plan: 'premium', requirements: { compliance: ['hipaa'] }, adminEmail: 'ops@acme.example' };
    const registered = await call('POST', '/v1/tenants', token, body, { 'idempotency-key': 'signup-0001' });
    expect(registered).toMatchObject({ status: 202, body: { name: 'acme-analytics', tier: 'bridge', status: 'PENDING' } });
    const again = await call('POST', '/v1/tenants', token, body, { 'idempotency-key': 'signup-0001' });
    expect(again.body.id).toBe(registered.body.id);

    const id = registered.body.id as string;
    const admin = await cliToken('--role', 'tenant-admin', '--tenant', id);
    // The provisioning workers take the tenant to ACTIVE in the background.
    const active = await eventually(() => call('GET', `/v1/tenants/${id}`, admin), (response) => response.body.status === 'ACTIVE');
    expect(active).toMatchObject({ status: 200, body: { id, status: 'ACTIVE', tier: 'bridge' } });
    const history = await call('GET', `/v1/tenants/${id}/history`, admin);
    expect((history.body.items as { to: string }[]).map((change) => change.to)).toEqual(['PENDING', 'PROVISIONING', 'ACTIVE']);
    const provisioning = await call('GET', `/v1/tenants/${id}/provisioning`, admin);
    expect(provisioning.body.items).toEqual([expect.objectContaining({ kind: 'onboard', status: 'SUCCEEDED' })]);
    // The local Kubernetes is the GitOps folder: the bridge tenant's chart, its node placement included.
    const deployment = await readFile(join(dataDir, 'manifests', 'tenants', 'acme-analytics', 'deployment-job-executor.yaml'), 'utf8');
    expect(deployment).toContain('saas-kit/tenant: acme-analytics');
    tenantId = id;
    tenantAdmin = admin;
  });

  it('runs a job of the tenant on its placement, from data-lake upload to success', async () => {
    const jobs = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => call(method, path, tenantAdmin, body, headers, kit.jobManagerUrl);
    expect(await jobs('POST', '/v1/datalake/objects', { key: 'raw/orders.parquet', bytes: 50_000_000 })).toMatchObject({ status: 201 });
    const dataset = await jobs('POST', '/v1/datalake/datasets', { name: 'orders', objectKeys: ['raw/orders.parquet'] });
    expect(dataset).toMatchObject({ status: 201, body: { sizeBytes: 50_000_000 } });
    const submitted = await jobs('POST', '/v1/jobs', { steps: ['load', 'transform', 'persist'], inputDatasetId: dataset.body.id, requestedVcpu: 4 }, { 'idempotency-key': 'job-0001' });
    expect(submitted).toMatchObject({ status: 202, body: { status: 'QUEUED', placement: { tier: 'bridge', namespace: 'tenant-acme-analytics' } } });
    // The local executor of this ACTIVE tenant claims it.
    const finished = await eventually(() => jobs('GET', `/v1/jobs/${submitted.body.id as string}`), (response) => response.body.status === 'SUCCEEDED');
    expect(finished.body.tenantId).toBe(tenantId);
  });

  it("puts the events of the control plane and of the job on the telemetry stream", async () => {
    const endpoints = kit.localEndpoints;
    if (!endpoints) throw new Error('the local kit writes its endpoints');
    const kinesis = new KinesisClient(localKinesisClientConfig(endpoints.kinesis));
    try {
      const types = new Set<string>();
      // The outbox relays run in the background: wait until the last events arrived.
      const arrived = () => types.has('tenant.registered') && types.has('job.succeeded') && types.has('user.login');
      for (let attempt = 0; attempt < 100 && !arrived(); attempt++) {
        const shards = await kinesis.send(new ListShardsCommand({ StreamName: endpoints.kinesis.streamName }));
        for (const shard of shards.Shards ?? []) {
          const start = await kinesis.send(new GetShardIteratorCommand({ StreamName: endpoints.kinesis.streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
          const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: start.ShardIterator }));
          for (const record of page.Records ?? []) types.add((JSON.parse(Buffer.from(record.Data ?? []).toString('utf8')) as { type: string }).type);
        }
        if (!arrived()) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect([...types]).toEqual(
        expect.arrayContaining(['tenant.registered', 'tenant.status_changed', 'user.created', 'user.login', 'datalake.object.uploaded', 'datalake.dataset.created', 'job.submitted', 'job.started', 'job.succeeded']),
      );
    } finally {
      kinesis.destroy();
    }
  });

  it("aggregates the tenant's day into S3 for Athena and QuickSight", async () => {
    const endpoints = kit.localEndpoints;
    if (!endpoints) throw new Error('the local kit writes its endpoints');
    const s3 = new S3Client(localS3ClientConfig(endpoints.s3));
    try {
      const key = `tenant_daily/dt=${new Date().toISOString().slice(0, 10)}/${tenantId}.json`;
      const read = async () => {
        try {
          const object = await s3.send(new GetObjectCommand({ Bucket: endpoints.s3.bucket, Key: key }));
          return JSON.parse(await object.Body?.transformToString() ?? '{}') as Record<string, unknown>;
        } catch {
          return {};
        }
      };
      const day = await eventually(read, (row) => row.jobs_succeeded === 1);
      // The tenant admin's `saas-kit token` signed in once: Cognito's PostAuthentication trigger put the user.login.
      expect(day).toMatchObject({ tenant_id: tenantId, registrations: 1, logins: 1, active_users: 1, uploads: 1, jobs_submitted: 1, jobs_succeeded: 1 });
    } finally {
      s3.destroy();
    }
  });

  it('tells the user to start the kit when no kit is running', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'saas-kit-empty-'));
    const failed = await run(process.execPath, ['--import', 'tsx', 'bin/saas-kit.ts', 'token', '--role', 'onboarding'], { env: { ...process.env, SAAS_KIT_DATA_DIR: empty } }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringMatching(/npm start/) });
    await rm(empty, { recursive: true, force: true });
  });
});
