import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, type BatchGetCommandOutput, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { JOB_STEPS, type JobStep } from '../events/data/job.js';
import { createEvent, type KitEvent, type NewEvent } from '../events/envelope.js';
import type { EventType } from '../events/catalog.js';
import { IdempotencyKeyReusedError, JobConflictError, JobLeaseLostError, JobStoreNotFoundError, JobStoreValidationError } from './errors.js';
import { UpdateExpression, outboxAttributes } from './expressions.js';
import { uuidV7 } from './ids.js';
import { isTerminal, NO_USAGE, type DataObject, type Dataset, type Job, type JobPlacement, type JobStatus, type JobUsage, type Page } from './model.js';
import { JOBS_TABLE, keys } from './table.js';

export interface JobRepositoryProps {
  /** A document client; build it with `DynamoDBDocumentClient.from(new DynamoDBClient(...))`. */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The `source` of the events this writer records, e.g. `control-plane/job-manager`. */
  readonly eventSource: string;
  /** @default - the system clock */
  readonly clock?: () => Date;
  /**
   * How long an Idempotency-Key is remembered, in seconds.
   * @default 86400 (a day)
   */
  readonly idempotencyTtlSeconds?: number;
}

export interface SubmitJobInput {
  readonly tenantId: string;
  /** The caller (token subject): Idempotency-Keys are per caller. */
  readonly submittedBy: string;
  /** The caller when it is a user of the tenant (their Cognito sub), else null (a platform operator): `job.submitted`'s userId. */
  readonly userId: string | null;
  readonly idempotencyKey: string;
  /** A digest of the request; the same key with another digest is refused. */
  readonly requestHash: string;
  readonly steps: readonly JobStep[];
  readonly inputDatasetId: string | null;
  readonly requestedVcpu: number;
  readonly placement: JobPlacement;
}

export interface ListJobsOptions {
  readonly status?: JobStatus;
  /** @default 20 */
  readonly limit?: number;
  readonly cursor?: string;
}

export interface FinishOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  readonly usage: JobUsage;
  readonly completedSteps: number;
  /** For FAILED: the step that failed (null before the first) and why. */
  readonly failure?: { readonly step: JobStep | null; readonly reason: string };
}

/** Fields of the table that are not part of the records' public shape. */
const INTERNAL_ATTRIBUTES = ['pk', 'sk', 'workKey', 'workSort', 'outbox', 'outboxShard', 'outboxSince', 'expiresAt', 'requestHash', 'eventSeq'] as const;

/** Most object keys in one dataset: the dataset item stays far below DynamoDB's 400 KB item limit. */
export const MAX_DATASET_OBJECTS = 200;

/**
 * Jobs, datasets and objects of every tenant in one DynamoDB table (see `table.ts`). Every method takes the
 * tenant id and reads only under `TENANT#<id>`: another tenant's items are never reachable.
 *
 * Each change and the event that tells it are one conditional write of one item: the event is stored in
 * the item's `outbox` map, which `JobOutboxRelay` empties onto Kinesis. The event exists exactly when the
 * change does, without transactions (2x the write cost on DynamoDB, and not offered by dynalite).
 */
export class JobRepository {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly eventSource: string;
  private readonly clock: () => Date;
  private readonly idempotencyTtlSeconds: number;

  public constructor(props: JobRepositoryProps) {
    if (typeof props.tableName !== 'string' || !/^[\w.-]{3,255}$/.test(props.tableName)) {
      throw new JobStoreValidationError(`tableName must be 3 to 255 letters, digits, '_', '.' or '-'; received ${JSON.stringify(props.tableName)}.`);
    }
    if (typeof props.eventSource !== 'string' || props.eventSource.length === 0) {
      throw new JobStoreValidationError(`eventSource must name the writing component, e.g. "control-plane/job-manager"; received ${JSON.stringify(props.eventSource)}.`);
    }
    this.client = props.client;
    this.tableName = props.tableName;
    this.eventSource = props.eventSource;
    this.clock = props.clock ?? (() => new Date());
    this.idempotencyTtlSeconds = props.idempotencyTtlSeconds ?? 86_400;
  }

  // ---- jobs ------------------------------------------------------------------------------------

  /**
   * Creates a QUEUED job with its job.submitted event, once per caller and Idempotency-Key: the key is
   * claimed first (with the job id it will have), so a retry after any failure finds the same job id and
   * either replays the job or finishes creating it.
   */
  public async submitJob(input: SubmitJobInput): Promise<{ readonly job: Job; readonly replayed: boolean }> {
    checkSteps(input.steps);
    if (!(input.requestedVcpu > 0) || !Number.isFinite(input.requestedVcpu)) {
      throw new JobStoreValidationError(`requestedVcpu must be a positive number; received ${JSON.stringify(input.requestedVcpu)}.`);
    }
    const now = this.clock();
    const tenantPk = keys.tenant(input.tenantId);
    const claimSk = keys.idempotency(input.submittedBy, input.idempotencyKey);
    let jobId = uuidV7(now.getTime());
    let createdAt = now.toISOString();
    const claimed = await this.putIfAbsent({
      pk: tenantPk,
      sk: claimSk,
      jobId,
      requestHash: input.requestHash,
      createdAt,
      expiresAt: Math.floor(now.getTime() / 1000) + this.idempotencyTtlSeconds,
    });
    if (!claimed) {
      const claim = await this.getItem(tenantPk, claimSk);
      if (claim === undefined || claim.requestHash !== input.requestHash) {
        throw new IdempotencyKeyReusedError(`Idempotency-Key "${input.idempotencyKey}" was used with a different request: use a new key for a new request.`);
      }
      jobId = claim.jobId as string;
      createdAt = claim.createdAt as string;
      const earlier = await this.getJob(input.tenantId, jobId);
      if (earlier) return { job: earlier, replayed: true };
    }

    let inputBytes = 0;
    if (input.inputDatasetId !== null) {
      const dataset = await this.getDataset(input.tenantId, input.inputDatasetId);
      if (!dataset) {
        throw new JobStoreNotFoundError('dataset', input.inputDatasetId, `Input dataset ${input.inputDatasetId} does not exist in this tenant: register it with POST /v1/datalake/datasets first.`);
      }
      inputBytes = dataset.sizeBytes;
    }
    const job: Job = {
      jobId,
      tenantId: input.tenantId,
      status: 'QUEUED',
      version: 1,
      steps: [...input.steps],
      inputDatasetId: input.inputDatasetId,
      inputBytes,
      requestedVcpu: input.requestedVcpu,
      placement: input.placement,
      submittedBy: input.submittedBy,
      createdAt,
      updatedAt: createdAt,
      startedAt: null,
      endedAt: null,
      cancelRequestedAt: null,
      workerId: null,
      leaseExpiresAt: null,
      attempts: 0,
      completedSteps: 0,
      usage: NO_USAGE,
      failure: null,
    };
    const event = this.event({
      type: 'job.submitted',
      tenantId: input.tenantId,
      time: new Date(createdAt),
      data: { jobId, steps: [...input.steps], ...(input.inputDatasetId !== null ? { inputDatasetId: input.inputDatasetId } : {}), requestedVcpu: input.requestedVcpu, userId: input.userId },
    });
    const created = await this.putIfAbsent({
      ...job,
      pk: tenantPk,
      sk: keys.job(jobId),
      requestHash: input.requestHash,
      workKey: keys.queued(input.placement.key),
      workSort: `${createdAt}#${jobId}`,
      ...outboxAttributes(event, 1),
    });
    if (!created) {
      // A concurrent request with the same key created it first.
      const winner = await this.getJob(input.tenantId, jobId);
      if (winner) return { job: winner, replayed: true };
      throw new JobConflictError(`Job ${jobId} was being created by a concurrent request and is not readable yet: retry with the same Idempotency-Key.`);
    }
    return { job, replayed: false };
  }

  public async getJob(tenantId: string, jobId: string): Promise<Job | null> {
    const item = await this.getItem(keys.tenant(tenantId), keys.job(jobId));
    return item ? toRecord<Job>(item) : null;
  }

  /** The tenant's jobs, newest first (job ids are UUIDv7), optionally of one status. */
  public async listJobs(tenantId: string, options: ListJobsOptions = {}): Promise<Page<Job>> {
    return this.listUnder<Job>(tenantId, 'JOB#', options.limit ?? 20, options.cursor, false, options.status ? { attribute: 'status', value: options.status } : undefined);
  }

  /**
   * Cancels a job: a QUEUED job at once (CANCELLED, with job.cancelled), a RUNNING one by request
   * (CANCELLING; its executor stops between steps). Asking again while CANCELLING answers the job as it
   * is; a finished job is a `JobConflictError`.
   */
  public async requestCancel(tenantId: string, jobId: string): Promise<Job> {
    for (let attempt = 0; ; attempt += 1) {
      const job = await this.getJob(tenantId, jobId);
      if (!job) throw new JobStoreNotFoundError('job', jobId, `No job ${jobId} in this tenant.`);
      if (job.status === 'CANCELLING') return job;
      if (isTerminal(job.status)) {
        throw new JobConflictError(`Job ${jobId} is ${job.status}: only QUEUED or RUNNING jobs can be cancelled.`, { current: job });
      }
      try {
        if (job.status === 'QUEUED') {
          return await this.transition(job, 'CANCELLED', {}, (u, at) => {
            u.set('cancelRequestedAt', at).set('endedAt', at).remove('workKey').remove('workSort');
            u.addEvent(this.event({ type: 'job.cancelled', tenantId, time: new Date(at), data: { jobId, ...NO_USAGE } }), job.version + 1);
          });
        }
        return await this.transition(job, 'CANCELLING', {}, (u, at) => void u.set('cancelRequestedAt', at));
      } catch (error) {
        // Another writer changed the job since we read it: look again (bounded, each retry sees a newer version).
        if (!(error instanceof JobConflictError) || attempt >= 9) throw error;
      }
    }
  }

  /**
   * Takes the next job of a placement for `workerId`: first a RUNNING (or CANCELLING) job whose executor's
   * lease expired, then the oldest QUEUED job. Each take is a conditional write, so of two executors only
   * one gets a job. A QUEUED job becomes RUNNING with its job.started event; a re-claimed job keeps its
   * status and progress (no second job.started). Null when there is nothing to do.
   */
  public async claimNext(placementKey: string, workerId: string, leaseMs: number): Promise<Job | null> {
    const now = this.clock().getTime();
    const expired = await this.queryWork(keys.running(placementKey), { below: keys.lease(now) });
    for (const item of expired) {
      const job = toRecord<Job>(item);
      try {
        return await this.update(job, { statuses: [job.status], leaseExpiredBefore: now }, (u) => {
          u.set('workerId', workerId).set('attempts', job.attempts + 1);
          this.setLease(u, job.placement.key, now + leaseMs);
        });
      } catch (error) {
        if (!(error instanceof JobConflictError)) throw error;
      }
    }
    const queued = await this.queryWork(keys.queued(placementKey), {});
    for (const item of queued) {
      const job = toRecord<Job>(item);
      try {
        return await this.transition(job, 'RUNNING', {}, (u, at) => {
          u.set('workerId', workerId).set('attempts', job.attempts + 1).set('startedAt', at);
          this.setLease(u, job.placement.key, now + leaseMs);
          const queuedMs = Math.max(0, Date.parse(at) - Date.parse(job.createdAt));
          u.addEvent(this.event({ type: 'job.started', tenantId: job.tenantId, time: new Date(at), data: { jobId: job.jobId, queuedMs } }), job.version + 1);
        });
      } catch (error) {
        if (!(error instanceof JobConflictError)) throw error;
      }
    }
    return null;
  }

  /**
   * Extends the executor's lease and records its progress. Returns the job as stored (its status shows a
   * cancel request); a `JobLeaseLostError` when another executor holds the job now.
   */
  public async heartbeat(job: Job, workerId: string, leaseMs: number, progress?: { readonly completedSteps: number; readonly usage: JobUsage }): Promise<Job> {
    const u = new UpdateExpression();
    u.condition((e) => `${e.name('status')} IN (${e.value('RUNNING')}, ${e.value('CANCELLING')}) AND ${e.name('workerId')} = ${e.value(workerId)}`);
    this.setLease(u, job.placement.key, this.clock().getTime() + leaseMs);
    if (progress) u.set('completedSteps', progress.completedSteps).set('usage', progress.usage);
    try {
      return await this.send(job, u);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getJob(job.tenantId, job.jobId);
        throw new JobLeaseLostError(`Executor ${workerId} no longer holds job ${job.jobId} (now ${current?.status ?? 'gone'}, held by ${current?.workerId ?? 'nobody'}).`, { cause: error, current });
      }
      throw error;
    }
  }

  /**
   * Hands a job back (an executor shutting down between steps): its lease ends now, so the next executor
   * of the placement re-claims it at once and resumes after `progress.completedSteps`.
   */
  public async release(job: Job, workerId: string, progress: { readonly completedSteps: number; readonly usage: JobUsage }): Promise<Job> {
    return this.heartbeat(job, workerId, -1, progress);
  }

  /**
   * Ends a job the executor holds, with its terminal event. Conditional on the status and version the
   * executor last saw and on its worker id: a re-claimed job cannot be finished twice. A cancel request
   * that arrived meanwhile makes a `JobConflictError` whose `current` is CANCELLING.
   */
  public async finish(job: Job, workerId: string, outcome: FinishOutcome): Promise<Job> {
    return this.transition(job, outcome.status, { workerId }, (u, at) => {
      u.set('endedAt', at).set('usage', outcome.usage).set('completedSteps', outcome.completedSteps).remove('workKey').remove('workSort').remove('leaseExpiresAt');
      const { jobId, tenantId } = job;
      const time = new Date(at);
      const usage = { durationMs: outcome.usage.durationMs, vcpuMs: outcome.usage.vcpuMs, bytesRead: outcome.usage.bytesRead, bytesWritten: outcome.usage.bytesWritten };
      let event: KitEvent;
      if (outcome.status === 'FAILED') {
        const failure = outcome.failure ?? { step: null, reason: 'failed without a reason' };
        u.set('failure', failure);
        event = this.event({ type: 'job.failed', tenantId, time, data: { jobId, failedStep: failure.step, reason: failure.reason.slice(0, 1024), ...usage } });
      } else if (outcome.status === 'SUCCEEDED') {
        event = this.event({ type: 'job.succeeded', tenantId, time, data: { jobId, ...usage } });
      } else {
        event = this.event({ type: 'job.cancelled', tenantId, time, data: { jobId, ...usage } });
      }
      u.addEvent(event, job.version + 1);
    });
  }

  // ---- data lake -------------------------------------------------------------------------------

  /** Registers an uploaded object (a new upload of a key replaces its size), with datalake.object.uploaded. */
  public async registerObject(tenantId: string, input: { readonly key: string; readonly bytes: number; readonly contentType: string }): Promise<DataObject> {
    if (typeof input.key !== 'string' || input.key.length === 0 || Buffer.byteLength(input.key, 'utf8') > 1000) {
      throw new JobStoreValidationError(`An object key is 1 to 1000 bytes of UTF-8 (it is part of the item's sort key); received ${JSON.stringify(input.key).slice(0, 80)}.`);
    }
    if (!Number.isSafeInteger(input.bytes) || input.bytes < 0) throw new JobStoreValidationError(`bytes must be a non-negative integer; received ${JSON.stringify(input.bytes)}.`);
    const registeredAt = this.clock().toISOString();
    const record: DataObject = { tenantId, key: input.key, bytes: input.bytes, contentType: input.contentType, registeredAt };
    const event = this.event({ type: 'datalake.object.uploaded', tenantId, time: new Date(registeredAt), data: { key: input.key, bytes: input.bytes } });
    const item = { pk: keys.tenant(tenantId), sk: keys.object(input.key) };
    if (await this.putIfAbsent({ ...record, ...item, ...outboxAttributes(event, 0) })) return record;
    const u = new UpdateExpression().set('bytes', input.bytes).set('contentType', input.contentType).set('registeredAt', registeredAt).addEvent(event, 0);
    u.condition((e) => `attribute_exists(${e.name('pk')})`);
    await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: item, ...u.build() }));
    return record;
  }

  /** Registers a dataset of registered objects (size: the sum of their bytes), with datalake.dataset.created. */
  public async createDataset(tenantId: string, input: { readonly name: string; readonly objectKeys: readonly string[] }): Promise<Dataset> {
    const objectKeys = [...new Set(input.objectKeys)];
    if (objectKeys.length === 0 || objectKeys.length > MAX_DATASET_OBJECTS) {
      throw new JobStoreValidationError(`A dataset has 1 to ${MAX_DATASET_OBJECTS} distinct object keys; received ${objectKeys.length}.`);
    }
    const objects = await this.getObjects(tenantId, objectKeys);
    const missing = objectKeys.filter((key) => !objects.has(key));
    if (missing.length > 0) {
      throw new JobStoreNotFoundError('object', missing[0], `Objects not registered in this tenant: ${missing.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}. Register them with POST /v1/datalake/objects first.`);
    }
    const datasetId = randomUUID();
    await this.claimDatasetName(tenantId, input.name, datasetId);
    const createdAt = this.clock().toISOString();
    const dataset: Dataset = {
      datasetId,
      tenantId,
      name: input.name,
      objectKeys,
      sizeBytes: objectKeys.reduce((sum, key) => sum + (objects.get(key)?.bytes ?? 0), 0),
      status: 'ACTIVE',
      createdAt,
      deletedAt: null,
    };
    const event = this.event({ type: 'datalake.dataset.created', tenantId, time: new Date(createdAt), data: { datasetId, name: dataset.name, sizeBytes: dataset.sizeBytes } });
    await this.putIfAbsent({ ...dataset, pk: keys.tenant(tenantId), sk: keys.dataset(datasetId), ...outboxAttributes(event, 1) });
    return dataset;
  }

  /** An ACTIVE dataset of the tenant, or null. */
  public async getDataset(tenantId: string, datasetId: string): Promise<Dataset | null> {
    const item = await this.getItem(keys.tenant(tenantId), keys.dataset(datasetId));
    const dataset = item ? toRecord<Dataset>(item) : null;
    return dataset?.status === 'ACTIVE' ? dataset : null;
  }

  public async listDatasets(tenantId: string, options: { readonly limit?: number; readonly cursor?: string } = {}): Promise<Page<Dataset>> {
    return this.listUnder<Dataset>(tenantId, 'DATASET#', options.limit ?? 20, options.cursor, true, { attribute: 'status', value: 'ACTIVE' });
  }

  /**
   * Deletes a dataset, with datalake.dataset.deleted. The item stays as a tombstone (status DELETED): it
   * carries the event until the relay has sent it. Its name is free again.
   */
  public async deleteDataset(tenantId: string, datasetId: string): Promise<Dataset> {
    const dataset = await this.getDataset(tenantId, datasetId);
    if (!dataset) throw new JobStoreNotFoundError('dataset', datasetId, `No dataset ${datasetId} in this tenant.`);
    const deletedAt = this.clock().toISOString();
    const u = new UpdateExpression().set('status', 'DELETED').set('deletedAt', deletedAt);
    u.condition((e) => `${e.name('status')} = ${e.value('ACTIVE')}`);
    u.addEvent(this.event({ type: 'datalake.dataset.deleted', tenantId, time: new Date(deletedAt), data: { datasetId, name: dataset.name, sizeBytes: dataset.sizeBytes } }), 2);
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: { pk: keys.tenant(tenantId), sk: keys.dataset(datasetId) }, ...u.build() }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new JobStoreNotFoundError('dataset', datasetId, `Dataset ${datasetId} was deleted by a concurrent request.`, { cause: error });
      throw error;
    }
    await this.releaseDatasetName(tenantId, dataset.name, datasetId);
    return { ...dataset, status: 'DELETED', deletedAt };
  }

  /** One consistent read of a key that never exists: answers when the table does. */
  public async ping(): Promise<void> {
    await this.getItem('HEALTH', 'HEALTH');
  }

  // ---- internals -------------------------------------------------------------------------------

  private event<T extends EventType>(event: Omit<NewEvent<T>, 'source'>): KitEvent<T> {
    return createEvent({ ...event, source: this.eventSource });
  }

  private setLease(u: UpdateExpression, placementKey: string, expiresAt: number): void {
    u.set('leaseExpiresAt', expiresAt).set('workKey', keys.running(placementKey)).set('workSort', keys.lease(expiresAt));
  }

  /**
   * A state change: conditional on the status and version read, raises the version, stamps `updatedAt`.
   * Its time is after the job's previous change even if clocks of two hosts disagree, so the events of
   * one job are ordered by their `time`.
   */
  private async transition(job: Job, to: JobStatus, expect: { readonly workerId?: string }, build: (u: UpdateExpression, at: string) => void): Promise<Job> {
    return this.update(job, { statuses: [job.status], ...expect }, (u, at) => {
      u.set('status', to);
      build(u, at);
    });
  }

  private async update(job: Job, expect: { readonly statuses: readonly JobStatus[]; readonly workerId?: string; readonly leaseExpiredBefore?: number }, build: (u: UpdateExpression, at: string) => void): Promise<Job> {
    const at = new Date(Math.max(this.clock().getTime(), Date.parse(job.updatedAt) + 1)).toISOString();
    const u = new UpdateExpression();
    u.condition((e) => `${e.name('status')} IN (${expect.statuses.map((s) => e.value(s)).join(', ')}) AND ${e.name('version')} = ${e.value(job.version)}`);
    if (expect.workerId !== undefined) u.condition((e) => `${e.name('workerId')} = ${e.value(expect.workerId)}`);
    if (expect.leaseExpiredBefore !== undefined) u.condition((e) => `${e.name('leaseExpiresAt')} < ${e.value(expect.leaseExpiredBefore)}`);
    u.set('version', job.version + 1).set('updatedAt', at);
    build(u, at);
    try {
      return await this.send(job, u);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = (await this.getJob(job.tenantId, job.jobId)) ?? undefined;
        throw new JobConflictError(
          `Job ${job.jobId} changed concurrently: expected ${expect.statuses.join('|')} at version ${job.version}${expect.workerId ? ` held by ${expect.workerId}` : ''}, found ${current ? `${current.status} at version ${current.version} held by ${current.workerId ?? 'nobody'}` : 'no job'}.`,
          { cause: error, ...(current ? { current } : {}) },
        );
      }
      throw error;
    }
  }

  private async send(job: Job, u: UpdateExpression): Promise<Job> {
    const result = await this.client.send(
      new UpdateCommand({ TableName: this.tableName, Key: { pk: keys.tenant(job.tenantId), sk: keys.job(job.jobId) }, ...u.build(), ReturnValues: 'ALL_NEW' }),
    );
    return toRecord<Job>(result.Attributes ?? {});
  }

  private async queryWork(workKey: string, range: { readonly below?: string }): Promise<Record<string, unknown>[]> {
    const { workIndex } = JOBS_TABLE;
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: workIndex.name,
        KeyConditionExpression: range.below === undefined ? '#k = :k' : '#k = :k AND #s < :s',
        ExpressionAttributeNames: { '#k': workIndex.partitionKey, ...(range.below === undefined ? {} : { '#s': workIndex.sortKey }) },
        ExpressionAttributeValues: { ':k': workKey, ...(range.below === undefined ? {} : { ':s': range.below }) },
        Limit: 10,
      }),
    );
    return result.Items ?? [];
  }

  private async listUnder<T>(tenantId: string, prefix: string, limit: number, cursor: string | undefined, ascending: boolean, filter: { attribute: string; value: string } | undefined): Promise<Page<T>> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new JobStoreValidationError(`limit must be an integer from 1 to 1000; received ${limit}.`);
    const pk = keys.tenant(tenantId);
    let startKey: Record<string, unknown> | undefined = cursor === undefined ? undefined : { pk, sk: decodeCursor(cursor, prefix) };
    const items: T[] = [];
    // A filter that matches few items would read the whole partition in one call: stop after a few
    // reads and answer a short page with a cursor, as DynamoDB itself does.
    let reads = 0;
    do {
      reads += 1;
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ...(filter ? { FilterExpression: '#f = :f' } : {}),
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', ...(filter ? { '#f': filter.attribute } : {}) },
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix, ...(filter ? { ':f': filter.value } : {}) },
          ScanIndexForward: ascending,
          Limit: limit - items.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(result.Items ?? []).map((item) => toRecord<T>(item)));
      startKey = result.LastEvaluatedKey;
    } while (startKey !== undefined && items.length < limit && reads < 10);
    return { items, nextCursor: startKey ? encodeCursor(startKey.sk as string) : null };
  }

  private async getObjects(tenantId: string, objectKeys: readonly string[]): Promise<Map<string, DataObject>> {
    const found = new Map<string, DataObject>();
    for (let start = 0; start < objectKeys.length; start += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
        [this.tableName]: { Keys: objectKeys.slice(start, start + 100).map((key) => ({ pk: keys.tenant(tenantId), sk: keys.object(key) })) },
      };
      // BatchGet may leave keys unprocessed under load: ask again for those.
      for (let round = 0; request !== undefined && round < 10; round += 1) {
        const result: BatchGetCommandOutput = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const object = toRecord<DataObject>(item);
          found.set(object.key, object);
        }
        const unprocessed = result.UnprocessedKeys?.[this.tableName]?.Keys;
        request = unprocessed && unprocessed.length > 0 ? { [this.tableName]: { Keys: unprocessed } } : undefined;
      }
      if (request !== undefined) throw new JobConflictError('DynamoDB left object keys unprocessed after 10 rounds: the table is throttled, retry later.');
    }
    return found;
  }

  /**
   * Claims a dataset name in the tenant. Without transactions, a crash between the claim and the dataset
   * leaves a claim whose dataset does not exist; such a stale claim is taken over.
   */
  private async claimDatasetName(tenantId: string, name: string, datasetId: string): Promise<void> {
    const item = { pk: keys.tenant(tenantId), sk: keys.datasetName(name), datasetId };
    if (await this.putIfAbsent(item)) return;
    const claim = await this.getItem(item.pk, item.sk);
    const holder = typeof claim?.datasetId === 'string' ? claim.datasetId : undefined;
    if (holder !== undefined && (await this.getDataset(tenantId, holder))) {
      throw new JobConflictError(`A dataset named "${name}" exists already (${holder}): choose another name, or delete it first.`);
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(holder === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(datasetId)' }
            : { ConditionExpression: 'attribute_not_exists(pk) OR datasetId = :stale', ExpressionAttributeValues: { ':stale': holder } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new JobConflictError(`A dataset named "${name}" was created by a concurrent request: choose another name.`, { cause: error });
      throw error;
    }
  }

  private async releaseDatasetName(tenantId: string, name: string, datasetId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: keys.tenant(tenantId), sk: keys.datasetName(name) },
          UpdateExpression: 'REMOVE datasetId',
          ConditionExpression: 'datasetId = :id',
          ExpressionAttributeValues: { ':id': datasetId },
        }),
      );
    } catch (error) {
      // Someone else holds the name now: nothing to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    return result.Item;
  }

  /** Puts an item that must not exist yet; false when it does. */
  private async putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function toRecord<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = { ...item };
  for (const attribute of INTERNAL_ATTRIBUTES) delete record[attribute];
  return record as T;
}

function encodeCursor(sk: string): string {
  return Buffer.from(sk, 'utf8').toString('base64url');
}

const CURSOR_FORM = /^(JOB|DATASET)#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decodeCursor(cursor: string, prefix: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!CURSOR_FORM.test(sk) || !sk.startsWith(prefix)) {
    throw new JobStoreValidationError('The cursor is not one this API returned: pass nextCursor from the previous page unchanged.');
  }
  return sk;
}

/** The steps, checked: known names, each at most once, in the order a full job runs them. */
export function checkSteps(steps: readonly string[]): JobStep[] {
  const known = steps.filter((step): step is JobStep => (JOB_STEPS as readonly string[]).includes(step));
  const inOrder = known.every((step, index) => index === 0 || JOB_STEPS.indexOf(step) > JOB_STEPS.indexOf(known[index - 1]));
  if (known.length !== steps.length || steps.length === 0 || !inOrder) {
    throw new JobStoreValidationError(`steps must be a non-empty subset of ${JOB_STEPS.join(', ')}, each once, in that order; received ${JSON.stringify(steps)}.`);
  }
  return known;
}
