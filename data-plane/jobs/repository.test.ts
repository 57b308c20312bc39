import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyKeyReusedError, JobConflictError, JobLeaseLostError, JobStoreNotFoundError, JobStoreValidationError } from './errors.js';
import { placementFor, type Job } from './model.js';
import { checkSteps, type JobRepository, type SubmitJobInput } from './repository.js';
import { startTestJobStore, type TestJobStore } from './testing/local-store.js';

let store: TestJobStore;
let repo: JobRepository;

beforeAll(async () => {
  store = await startTestJobStore();
  repo = store.repository(await store.newTable());
});
afterAll(async () => {
  await store?.stop();
});

function submission(tenantId: string, overrides: Partial<SubmitJobInput> = {}): SubmitJobInput {
  return {
    tenantId,
    submittedBy: 'user-1',
    userId: '7d1f3c2b-9a8e-4f6d-b5c4-3e2a1f0d9c8b',
    idempotencyKey: randomUUID(),
    requestHash: 'h1',
    steps: ['load', 'persist'],
    inputDatasetId: null,
    requestedVcpu: 2,
    placement: placementFor('pool', 'acme'),
    ...overrides,
  };
}

describe('JobRepository on dynalite', () => {
  it('lets exactly one of two concurrent transitions from the same version win; the loser gets a typed conflict', async () => {
    const tenantId = randomUUID();
    const { job } = await repo.submitJob(submission(tenantId, { placement: placementFor('pool', `race-${tenantId.slice(0, 6)}`) }));
    const claims = await Promise.allSettled([repo.claimNext(job.placement.key, 'worker-a', 60_000), repo.claimNext(job.placement.key, 'worker-b', 60_000)]);
    const claimed = claims.filter((c): c is PromiseFulfilledResult<Job | null> => c.status === 'fulfilled' && c.value !== null);
    expect(claimed).toHaveLength(1);
    const winner = claimed[0]?.value as Job;
    expect(winner).toMatchObject({ status: 'RUNNING', version: 2, attempts: 1 });

    // The same job finished twice from the same version: one success, one JobConflictError.
    const outcome = { status: 'SUCCEEDED' as const, usage: { durationMs: 1, vcpuMs: 2, bytesRead: 3, bytesWritten: 4 }, completedSteps: 2 };
    const finishes = await Promise.allSettled([repo.finish(winner, winner.workerId as string, outcome), repo.finish(winner, winner.workerId as string, outcome)]);
    expect(finishes.filter((f) => f.status === 'fulfilled')).toHaveLength(1);
    const lost = finishes.find((f): f is PromiseRejectedResult => f.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(JobConflictError);
    expect((lost?.reason as JobConflictError<Job>).current).toMatchObject({ status: 'SUCCEEDED', version: 3 });
  });

  it('races a cancel against a claim: the job ends in exactly one consistent state', async () => {
    for (let round = 0; round < 5; round += 1) {
      const tenantId = randomUUID();
      const placement = placementFor('bridge', `r${round}-${tenantId.slice(0, 6)}`);
      const { job } = await repo.submitJob(submission(tenantId, { placement }));
      const [cancel, claim] = await Promise.allSettled([repo.requestCancel(tenantId, job.jobId), repo.claimNext(placement.key, 'worker', 60_000)]);
      const stored = (await repo.getJob(tenantId, job.jobId)) as Job;
      expect(cancel.status).toBe('fulfilled');
      if (claim.status === 'fulfilled' && claim.value !== null) {
        // Claimed first: the cancel became a request the executor honours.
        expect(stored.status).toBe('CANCELLING');
      } else {
        expect(stored.status).toBe('CANCELLED');
      }
    }
  });

  it('answers the same job for the same Idempotency-Key and refuses the key with another request', async () => {
    const tenantId = randomUUID();
    const input = submission(tenantId, { idempotencyKey: 'key-1' });
    const [a, b] = await Promise.all([repo.submitJob(input), repo.submitJob(input)]);
    expect(a.job.jobId).toBe(b.job.jobId);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    await expect(repo.submitJob({ ...input, requestHash: 'h2' })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect((await repo.listJobs(tenantId)).items).toHaveLength(1);
  });

  it('cancels a QUEUED job at once, a RUNNING job by request, and refuses a finished one', async () => {
    const tenantId = randomUUID();
    const placement = placementFor('pool', `c-${tenantId.slice(0, 6)}`);
    const queued = (await repo.submitJob(submission(tenantId, { placement }))).job;
    expect(await repo.requestCancel(tenantId, queued.jobId)).toMatchObject({ status: 'CANCELLED', usage: { durationMs: 0, vcpuMs: 0 } });
    await expect(repo.requestCancel(tenantId, queued.jobId)).rejects.toBeInstanceOf(JobConflictError);

    await repo.submitJob(submission(tenantId, { placement }));
    const running = (await repo.claimNext(placement.key, 'w', 60_000)) as Job;
    const cancelling = await repo.requestCancel(tenantId, running.jobId);
    expect(cancelling.status).toBe('CANCELLING');
    expect((await repo.requestCancel(tenantId, running.jobId)).status).toBe('CANCELLING');
    // The executor's view is stale (version 2): finishing as SUCCEEDED loses to the cancel request.
    await expect(repo.finish(running, 'w', { status: 'SUCCEEDED', usage: running.usage, completedSteps: 2 })).rejects.toBeInstanceOf(JobConflictError);
    const cancelled = await repo.finish(cancelling, 'w', { status: 'CANCELLED', usage: running.usage, completedSteps: 1 });
    expect(cancelled.status).toBe('CANCELLED');
    await expect(repo.requestCancel(randomUUID(), running.jobId)).rejects.toBeInstanceOf(JobStoreNotFoundError);
  });

  it('re-claims a RUNNING job only after its lease expired, and the old holder can neither heartbeat nor finish it', async () => {
    let now = Date.now();
    const timed = store.repository(await store.newTable(), { clock: () => new Date(now) });
    const tenantId = randomUUID();
    const placement = placementFor('silo', 'lease', '123456789012');
    await timed.submitJob(submission(tenantId, { placement }));
    const first = (await timed.claimNext(placement.key, 'crashed', 1000)) as Job;
    expect(await timed.claimNext(placement.key, 'second', 1000)).toBeNull();
    now += 1001;
    const second = (await timed.claimNext(placement.key, 'second', 1000)) as Job;
    expect(second).toMatchObject({ jobId: first.jobId, status: 'RUNNING', workerId: 'second', attempts: 2 });
    await expect(timed.heartbeat(first, 'crashed', 1000)).rejects.toBeInstanceOf(JobLeaseLostError);
    await expect(timed.finish(first, 'crashed', { status: 'SUCCEEDED', usage: first.usage, completedSteps: 2 })).rejects.toBeInstanceOf(JobConflictError);
    expect((await timed.finish(second, 'second', { status: 'SUCCEEDED', usage: second.usage, completedSteps: 2 })).status).toBe('SUCCEEDED');
  });

  it('lists a tenant\'s jobs newest first with a cursor and a status filter, and never another tenant\'s', async () => {
    const tenantId = randomUUID();
    const other = randomUUID();
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      ids.push((await repo.submitJob(submission(tenantId))).job.jobId);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await repo.submitJob(submission(other));
    await repo.requestCancel(tenantId, ids[1]);
    const first = await repo.listJobs(tenantId, { limit: 2 });
    const second = await repo.listJobs(tenantId, { limit: 2, cursor: first.nextCursor as string });
    const third = await repo.listJobs(tenantId, { limit: 2, cursor: second.nextCursor as string });
    expect([...first.items, ...second.items, ...third.items].map((job) => job.jobId)).toEqual([...ids].reverse());
    expect((await repo.listJobs(tenantId, { status: 'CANCELLED' })).items.map((job) => job.jobId)).toEqual([ids[1]]);
    await expect(repo.listJobs(tenantId, { cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(JobStoreValidationError);
  });

  it('sizes datasets from their objects, keeps names unique per tenant, and frees a name on delete', async () => {
    const tenantId = randomUUID();
    await repo.registerObject(tenantId, { key: 'raw/a.csv', bytes: 100, contentType: 'text/csv' });
    await repo.registerObject(tenantId, { key: 'raw/b.csv', bytes: 50, contentType: 'text/csv' });
    await repo.registerObject(tenantId, { key: 'raw/b.csv', bytes: 70, contentType: 'text/csv' });
    const dataset = await repo.createDataset(tenantId, { name: 'orders', objectKeys: ['raw/a.csv', 'raw/b.csv', 'raw/a.csv'] });
    expect(dataset).toMatchObject({ sizeBytes: 170, objectKeys: ['raw/a.csv', 'raw/b.csv'], status: 'ACTIVE' });
    await expect(repo.createDataset(tenantId, { name: 'orders', objectKeys: ['raw/a.csv'] })).rejects.toBeInstanceOf(JobConflictError);
    await expect(repo.createDataset(tenantId, { name: 'x', objectKeys: ['raw/missing.csv'] })).rejects.toBeInstanceOf(JobStoreNotFoundError);
    // Another tenant sees none of it.
    expect(await repo.getDataset(randomUUID(), dataset.datasetId)).toBeNull();
    await expect(repo.createDataset(randomUUID(), { name: 'orders', objectKeys: ['raw/a.csv'] })).rejects.toBeInstanceOf(JobStoreNotFoundError);

    await repo.deleteDataset(tenantId, dataset.datasetId);
    expect(await repo.getDataset(tenantId, dataset.datasetId)).toBeNull();
    await expect(repo.deleteDataset(tenantId, dataset.datasetId)).rejects.toBeInstanceOf(JobStoreNotFoundError);
    const again = await repo.createDataset(tenantId, { name: 'orders', objectKeys: ['raw/a.csv'] });
    expect((await repo.listDatasets(tenantId)).items.map((d) => d.datasetId)).toEqual([again.datasetId]);
  });

  it('checks steps: a subset of load, transform, process, persist in that order', () => {
    expect(checkSteps(['load', 'process'])).toEqual(['load', 'process']);
    for (const bad of [[], ['persist', 'load'], ['load', 'load'], ['load', 'compile']]) {
      expect(() => checkSteps(bad)).toThrow(JobStoreValidationError);
    }
  });
});
