import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../bin/start.js';
import { localKinesisClientConfig } from '../local-cloud/index.js';

const run = promisify(execFile);

/** The README's walk-through: `npm start`'s composition, tokens from the CLI, the onboarding calls. */
describe('the README walk-through', () => {
  let dataDir: string;
  let kit: RunningControlPlane;

  async function cliToken(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/saas-kit.ts', 'token', ...args], { env: { ...process.env, SAAS_KIT_DATA_DIR: dataDir } });
    return stdout.trim();
  }

  async function call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(kit.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'saas-kit-walkthrough-'));
    kit = await startControlPlane(
      {
        host: '127.0.0.1',
        port: 0,
        jobManagerPort: 0,
        jobsTable: 'saas-kit-jobs',
        executorTimeScale: 0.01,
        dataDir,
        sharedRegion: 'us-east-1',
        telemetry: { streamName: 'saas-kit-events', bucket: 'saas-kit-analytics' },
        cloud: { mode: 'local', ports: { cognito: 0, kinesis: 0, dynamoDb: 0, s3: 0 } },
      },
      pino({ level: 'silent' }),
    );
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

    const admin = await cliToken('--role', 'tenant-admin', '--tenant', registered.body.id as string);
    const status = await call('GET', `/v1/tenants/${registered.body.id as string}`, admin);
    expect(status).toMatchObject({ status: 200, body: { id: registered.body.id, status: 'PENDING' } });
    const history = await call('GET', `/v1/tenants/${registered.body.id as string}/history`, admin);
    expect(history.body.items).toEqual([expect.objectContaining({ from: null, to: 'PENDING' })]);
  });

  it("puts the control plane's events on the telemetry stream", async () => {
    const endpoints = kit.localEndpoints;
    if (!endpoints) throw new Error('the local kit writes its endpoints');
    const kinesis = new KinesisClient(localKinesisClientConfig(endpoints.kinesis));
    try {
      const types = new Set<string>();
      // The outbox relay runs in the background: wait until the registration's events arrived.
      for (let attempt = 0; attempt < 100 && !types.has('tenant.registered'); attempt++) {
        const shards = await kinesis.send(new ListShardsCommand({ StreamName: endpoints.kinesis.streamName }));
        for (const shard of shards.Shards ?? []) {
          const start = await kinesis.send(new GetShardIteratorCommand({ StreamName: endpoints.kinesis.streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
          const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: start.ShardIterator }));
          for (const record of page.Records ?? []) types.add((JSON.parse(Buffer.from(record.Data ?? []).toString('utf8')) as { type: string }).type);
        }
        if (!types.has('tenant.registered')) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect([...types]).toEqual(expect.arrayContaining(['tenant.registered', 'tenant.status_changed', 'user.created']));
    } finally {
      kinesis.destroy();
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
