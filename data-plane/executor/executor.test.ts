import { randomUUID } from 'node:crypto';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, type KitEvent } from '../events.js';
import { JobConflictError } from '../jobs/errors.js';
import { placementFor, type Job } from '../jobs/model.js';
import { JobOutboxRelay } from '../jobs/job-outbox-relay.js';
import type { JobRepository } from '../jobs/repository.js';
import { startTestJobStore, type TestJobStore } from '../jobs/testing/local-store.js';
import { startTestKinesis, type TestKinesis } from '../private/testing/local-kinesis.js';
import { localDynamoDbClientConfig, localKinesisClientConfig } from '../../local-cloud/index.js';
import { JobExecutorValidationError } from './errors.js';
import { JobExecutor } from './executor.js';
import { EXECUTOR_EVENT_SOURCE, runExecutor } from './main.js';
import { planJob } from './simulation.js';

const GiB = 1024 ** 3;

let store: TestJobStore;
let kinesis: TestKinesis;
let kinesisClient: KinesisClient;
let table: string;
let stream: string;
let manager: JobRepository;
let executorRepo: JobRepository;
let relay: JobOutboxRelay;

beforeAll(async () => {
  [store, kinesis] = await Promise.all([startTestJobStore(), startTestKinesis()]);
  table = await store.newTable();
  stream = `jobs-${randomUUID().slice(0, 8)}`;
  await kinesis.createStream(stream, 2);
  kinesisClient = kinesis.client();
  manager = store.repository(table);
  executorRepo = store.repository(table, { eventSource: EXECUTOR_EVENT_SOURCE });
  relay = new JobOutboxRelay({ client: store.client, tableName: table, kinesis: kinesisClient, streamName: stream, baseDelayMs: 1 });
});
afterAll(async () => {
  kinesisClient?.destroy();
  await Promise.all([store?.stop(), kinesis?.stop()]);
});

/** Relays the outbox and returns every event of the stream, in stream order per shard. */
async function streamEvents(): Promise<KitEvent[]> {
  while ((await relay.runOnce()).pending > 0);
  const records = await kinesis.readAll(stream);
  return records.map((record) => {
    const parsed = parseEvent(record.Data ?? new Uint8Array());
    if (!parsed.ok) throw new Error(`unparseable record on the stream: ${parsed.detail}`);
    expect(record.PartitionKey).toBe(parsed.event.subject);
    return parsed.event;
  });
}

async function tenantWithDataset(bytes: number): Promise<{ tenantId: string; datasetId: string }> {
  const tenantId = randomUUID();
  await manager.registerObject(tenantId, { key: 'raw/part-0.parquet', bytes: bytes / 2, contentType: 'application/vnd.apache.parquet' });
  await manager.registerObject(tenantId, { key: 'raw/part-1.parquet', bytes: bytes / 2, contentType: 'application/vnd.apache.parquet' });
  const dataset = await manager.createDataset(tenantId, { name: 'events', objectKeys: ['raw/part-0.parquet', 'raw/part-1.parquet'] });
  return { tenantId, datasetId: dataset.datasetId };
}

async function submit(tenantId: string, datasetId: string, tenantName: string, vcpu = 4): Promise<Job> {
  const { job } = await manager.submitJob({
    tenantId,
    submittedBy: 'user',
    userId: null,
    idempotencyKey: randomUUID(),
    requestHash: 'x',
    steps: ['load', 'transform', 'process', 'persist'],
    inputDatasetId: datasetId,
    requestedVcpu: vcpu,
    placement: placementFor('pool', tenantName),
  });
  return job;
}

async function until<T>(probe: () => Promise<T | null | undefined | false>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('JobExecutor on dynalite and kinesalite', () => {
  it('runs a job end to end; its events reach the stream once each, in order, with the usage of the model', async () => {
    const { tenantId, datasetId } = await tenantWithDataset(GiB);
    const job = await submit(tenantId, datasetId, 'e2e');
    const executor = new JobExecutor({ repository: executorRepo, placementKey: job.placement.key, timeScale: 0.0001 });
    const ended = (await executor.runOnce()) as Job;
    const expected = planJob({ steps: job.steps, inputBytes: GiB, requestedVcpu: 4, tier: 'pool' }).reduce(
      (sum, plan) => ({ durationMs: sum.durationMs + plan.usage.durationMs, vcpuMs: sum.vcpuMs + plan.usage.vcpuMs, bytesRead: sum.bytesRead + plan.usage.bytesRead, bytesWritten: sum.bytesWritten + plan.usage.bytesWritten }),
      { durationMs: 0, vcpuMs: 0, bytesRead: 0, bytesWritten: 0 },
    );
    expect(ended).toMatchObject({ status: 'SUCCEEDED', completedSteps: 4, attempts: 1, usage: expected });
    expect(expected).toEqual({ durationMs: 20_201, vcpuMs: 63_282, bytesRead: GiB, bytesWritten: 429_496_730 });
    expect(await executor.runOnce()).toBeNull();

    const events = (await streamEvents()).filter((event) => event.subject === tenantId);
    expect(events.map((event) => event.type)).toEqual(['datalake.object.uploaded', 'datalake.object.uploaded', 'datalake.dataset.created', 'job.submitted', 'job.started', 'job.succeeded']);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    const times = events.map((event) => event.time);
    expect([...times].sort()).toEqual(times);
    expect(events.find((event) => event.type === 'job.started')?.source).toBe(EXECUTOR_EVENT_SOURCE);
    expect(events.find((event) => event.type === 'job.succeeded')?.data).toEqual({ jobId: job.jobId, ...expected });
    expect(events.find((event) => event.type === 'datalake.dataset.created')?.data).toMatchObject({ datasetId, sizeBytes: GiB });
  });

  it('stops a running job between steps when cancelled, and reports what it used until then', async () => {
    const { tenantId, datasetId } = await tenantWithDataset(8 * GiB);
    const job = await submit(tenantId, datasetId, 'cancel', 2);
    // About 0.4 s of wall-clock time per step at this scale.
    const executor = new JobExecutor({ repository: executorRepo, placementKey: job.placement.key, timeScale: 0.005, pollIntervalMs: 5 });
    executor.start();
    try {
      await until(async () => (await manager.getJob(tenantId, job.jobId))?.status === 'RUNNING');
      expect((await manager.requestCancel(tenantId, job.jobId)).status).toBe('CANCELLING');
      const ended = await until(async () => {
        const current = await manager.getJob(tenantId, job.jobId);
        return current?.status === 'CANCELLED' ? current : null;
      });
      expect(ended.completedSteps).toBeLessThan(4);
      expect(executor.stats()).toMatchObject({ cancelled: 1, succeeded: 0 });
      const cancelled = (await streamEvents()).filter((event) => event.subject === tenantId && event.type.startsWith('job.'));
      expect(cancelled.map((event) => event.type)).toEqual(['job.submitted', 'job.started', 'job.cancelled']);
      expect(cancelled[2]?.data).toEqual({ jobId: job.jobId, ...ended.usage });
    } finally {
      await executor.stop();
    }
  });

  it('re-claims the job of a crashed executor after its lease, resumes after its last step, and succeeds once', async () => {
    const { tenantId, datasetId } = await tenantWithDataset(GiB);
    const job = await submit(tenantId, datasetId, 'crash');
    // The crashed executor claimed the job, finished `load`, recorded it, and was never heard of again.
    const crashed = (await executorRepo.claimNext(job.placement.key, 'crashed', 300)) as Job;
    const [load] = planJob({ steps: job.steps, inputBytes: GiB, requestedVcpu: 4, tier: 'pool' });
    await executorRepo.heartbeat(crashed, 'crashed', 300, { completedSteps: 1, usage: load?.usage ?? crashed.usage });

    const executor = new JobExecutor({ repository: executorRepo, placementKey: job.placement.key, timeScale: 0.0001, leaseMs: 300 });
    expect(await executor.runOnce()).toBeNull();
    const ended = await until(() => executor.runOnce());
    expect(ended).toMatchObject({ jobId: job.jobId, status: 'SUCCEEDED', attempts: 2, workerId: executor.workerId });
    expect(ended.usage.vcpuMs).toBe(63_282);
    // Back from the dead, the first executor cannot finish the job a second time.
    await expect(executorRepo.finish(crashed, 'crashed', { status: 'SUCCEEDED', usage: ended.usage, completedSteps: 4 })).rejects.toBeInstanceOf(JobConflictError);

    const events = (await streamEvents()).filter((event) => event.subject === tenantId && event.type.startsWith('job.'));
    expect(events.map((event) => event.type)).toEqual(['job.submitted', 'job.started', 'job.succeeded']);
  });

  it('hands a job over when stopped between steps; the next executor resumes it at once and it succeeds once', async () => {
    const { tenantId, datasetId } = await tenantWithDataset(8 * GiB);
    const job = await submit(tenantId, datasetId, 'handover', 2);
    const first = new JobExecutor({ repository: executorRepo, placementKey: job.placement.key, timeScale: 0.005, pollIntervalMs: 5 });
    first.start();
    await until(async () => (await manager.getJob(tenantId, job.jobId))?.status === 'RUNNING');
    await first.stop();
    const released = (await manager.getJob(tenantId, job.jobId)) as Job;
    expect(released).toMatchObject({ status: 'RUNNING', workerId: first.workerId });
    expect(released.completedSteps).toBeGreaterThan(0);

    const second = new JobExecutor({ repository: executorRepo, placementKey: job.placement.key, timeScale: 0.0001 });
    const ended = (await second.runOnce()) as Job;
    expect(ended).toMatchObject({ status: 'SUCCEEDED', attempts: 2, completedSteps: 4, workerId: second.workerId });
    const expected = planJob({ steps: job.steps, inputBytes: 8 * GiB, requestedVcpu: 2, tier: 'pool' }).reduce((sum, plan) => sum + plan.usage.vcpuMs, 0);
    expect(ended.usage.vcpuMs).toBe(expected);
    const events = (await streamEvents()).filter((event) => event.subject === tenantId && event.type.startsWith('job.'));
    expect(events.map((event) => event.type)).toEqual(['job.submitted', 'job.started', 'job.succeeded']);
  });

  it('fails a job whose input dataset was deleted before it started', async () => {
    const { tenantId, datasetId } = await tenantWithDataset(GiB);
    const job = await submit(tenantId, datasetId, 'deleted');
    await manager.deleteDataset(tenantId, datasetId);
    const ended = (await new JobExecutor({ repository: executorRepo, placementKey: job.placement.key, timeScale: 0.0001 }).runOnce()) as Job;
    expect(ended).toMatchObject({ status: 'FAILED', completedSteps: 0, usage: { durationMs: 0, vcpuMs: 0 }, failure: { step: 'load', reason: expect.stringMatching(/deleted before the job started/) } });
  });

  it('runs as the tier charts start it: runExecutor from a typed config, with its own relay', async () => {
    const { tenantId, datasetId } = await tenantWithDataset(GiB);
    const job = await submit(tenantId, datasetId, 'main');
    const running = runExecutor({
      tableName: table,
      tenantName: 'main',
      tier: 'pool',
      dynamoDb: localDynamoDbClientConfig(store.dynamo),
      relay: { streamName: stream, kinesis: localKinesisClientConfig({ endpoint: kinesis.endpoint, region: 'us-east-1' }) },
      timeScale: 0.0001,
      pollIntervalMs: 5,
      logger: pino({ level: 'silent' }),
    });
    try {
      expect(running.placementKey).toBe('namespace/tenant-main');
      await until(async () => (await manager.getJob(tenantId, job.jobId))?.status === 'SUCCEEDED');
      const types = await until(async () => {
        const seen = (await kinesis.readAll(stream)).map((record) => parseEvent(record.Data ?? new Uint8Array())).flatMap((r) => (r.ok && r.event.subject === tenantId ? [r.event.type] : []));
        return seen.includes('job.succeeded') ? seen : null;
      });
      expect(types.filter((type) => type.startsWith('job.'))).toEqual(['job.submitted', 'job.started', 'job.succeeded']);
      expect(running.stats().succeeded).toBe(1);
    } finally {
      await running.stop();
    }
    expect(() => runExecutor({ tableName: table, tenantName: 'Bad Name', tier: 'pool' })).toThrow(JobExecutorValidationError);
    expect(() => new JobExecutor({ repository: executorRepo, placementKey: 'pool', timeScale: 0 })).toThrow(/placementKey .*; timeScale/);
  });

  it('fails a job whose process step does not fit in memory, with the step and the reason', async () => {
    const { tenantId, datasetId } = await tenantWithDataset(64 * GiB);
    const job = await submit(tenantId, datasetId, 'oom', 2);
    const executor = new JobExecutor({ repository: executorRepo, placementKey: job.placement.key, timeScale: 0.00001 });
    const ended = (await executor.runOnce()) as Job;
    expect(ended).toMatchObject({ status: 'FAILED', completedSteps: 2, failure: { step: 'process' } });
    const failed = (await streamEvents()).find((event) => event.subject === tenantId && event.type === 'job.failed');
    expect(failed?.data).toMatchObject({ jobId: job.jobId, failedStep: 'process', reason: expect.stringMatching(/request at least 13 vCPU/), vcpuMs: ended.usage.vcpuMs });
  });
});
