import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { z } from 'zod';
import {
  IdempotencyKeyReusedError,
  JobConflictError,
  JobStoreNotFoundError,
  JobStoreValidationError,
  placementFor,
  type DataObject,
  type Dataset,
  type Job,
  type JobRepository,
  type JobStatus,
} from '../../data-plane/index.js';
import { TIERS, type TierName } from '../../tenant-tiers/index.js';
import type { Principal } from '../auth/principal.js';
import { BadRequestError, ConflictError, ForbiddenError, IdempotencyMismatchError, NotFoundError, UnprocessableError } from '../errors.js';
import type * as schemas from './schemas.js';

type JobCreate = z.infer<typeof schemas.JobCreate>;
type ObjectCreate = z.infer<typeof schemas.ObjectCreate>;
type DatasetCreate = z.infer<typeof schemas.DatasetCreate>;
export type JobView = z.infer<typeof schemas.Job>;
export type DatasetView = z.infer<typeof schemas.Dataset>;
export type DataObjectView = z.infer<typeof schemas.DataObject>;

/** What the Job Manager needs to know of a tenant. */
export interface TenantInfo {
  readonly tier: TierName;
  /** The tenant's name: it names its namespace (`tenant-<name>`) and node group label. */
  readonly name: string;
  /** The control plane's lifecycle status; only ACTIVE tenants run jobs and write to their lake. */
  readonly status: string;
  /** The tenant's own AWS account (silo), when provisioning has made it. */
  readonly accountId?: string;
}

/** Finds a tenant by id; null when there is none. The control plane wires it to the Tenant Manager's store. */
export type TenantLookup = (tenantId: string) => Promise<TenantInfo | null>;

/**
 * The Job Manager's use cases. Every call resolves the tenant from the caller first: a tenant token acts
 * only for its own tenant, a platform-admin for the tenant it names; the store is then asked under that
 * tenant's key only, so another tenant's jobs and datasets are unreachable (404), not merely filtered.
 */
export class JobService {
  public constructor(
    private readonly jobs: JobRepository,
    private readonly tenantLookup: TenantLookup,
  ) {}

  public async submit(principal: Principal, requestedTenant: string | undefined, idempotencyKey: string, request: JobCreate): Promise<{ job: JobView; replayed: boolean }> {
    const tenantId = tenantFor(principal, requestedTenant);
    const tenant = await this.activeTenant(tenantId, 'submit jobs');
    const maxVcpu = TIERS[tenant.tier].maxVcpu;
    if (!(request.requestedVcpu > 0) || request.requestedVcpu > maxVcpu) {
      throw new UnprocessableError(`requestedVcpu must be above 0 and at most ${maxVcpu}, the maxVcpu of the ${tenant.tier} tier; received ${request.requestedVcpu}. Ask for fewer vCPUs, or move the tenant to a larger tier.`, {
        errors: [{ in: 'body', pointer: '#/requestedVcpu', detail: `must be in (0, ${maxVcpu}]` }],
      });
    }
    const requestHash = createHash('sha256').update(stringify({ tenantId, request }) ?? '').digest('hex');
    try {
      const { job, replayed } = await this.jobs.submitJob({
        tenantId,
        submittedBy: principal.subject,
        userId: principal.kind === 'tenant' ? principal.subject : null,
        idempotencyKey,
        requestHash,
        steps: request.steps,
        inputDatasetId: request.inputDatasetId,
        requestedVcpu: request.requestedVcpu,
        placement: placementFor(tenant.tier, tenant.name, tenant.accountId),
      });
      return { job: toJobView(job), replayed };
    } catch (error) {
      if (error instanceof IdempotencyKeyReusedError) throw new IdempotencyMismatchError(error.message, { cause: error });
      if (error instanceof JobStoreNotFoundError && error.kind === 'dataset') {
        throw new UnprocessableError(error.message, { cause: error, errors: [{ in: 'body', pointer: '#/inputDatasetId', detail: 'is not a dataset of this tenant' }] });
      }
      throw mapStoreError(error);
    }
  }

  public async list(principal: Principal, requestedTenant: string | undefined, query: { status?: JobStatus; limit: number; cursor?: string }): Promise<{ items: JobView[]; nextCursor: string | null }> {
    const tenantId = tenantFor(principal, requestedTenant);
    const page = await this.jobs.listJobs(tenantId, { limit: query.limit, ...(query.status ? { status: query.status } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) }).catch((error: unknown) => {
      throw mapStoreError(error);
    });
    return { items: page.items.map(toJobView), nextCursor: page.nextCursor };
  }

  public async get(principal: Principal, requestedTenant: string | undefined, jobId: string): Promise<JobView> {
    const tenantId = tenantFor(principal, requestedTenant);
    const job = await this.jobs.getJob(tenantId, jobId);
    if (!job) throw jobNotFound(jobId);
    return toJobView(job);
  }

  /** Cancels a job: CANCELLED at once when QUEUED, CANCELLING (the executor stops between steps) when RUNNING. */
  public async cancel(principal: Principal, requestedTenant: string | undefined, jobId: string): Promise<JobView> {
    const tenantId = tenantFor(principal, requestedTenant);
    try {
      return toJobView(await this.jobs.requestCancel(tenantId, jobId));
    } catch (error) {
      if (error instanceof JobStoreNotFoundError) throw jobNotFound(jobId);
      throw mapStoreError(error);
    }
  }

  public async registerObject(principal: Principal, requestedTenant: string | undefined, request: ObjectCreate): Promise<DataObjectView> {
    const tenantId = tenantFor(principal, requestedTenant);
    await this.activeTenant(tenantId, 'register objects');
    return toObjectView(await this.jobs.registerObject(tenantId, request));
  }

  public async createDataset(principal: Principal, requestedTenant: string | undefined, request: DatasetCreate): Promise<DatasetView> {
    const tenantId = tenantFor(principal, requestedTenant);
    await this.activeTenant(tenantId, 'create datasets');
    try {
      return toDatasetView(await this.jobs.createDataset(tenantId, request));
    } catch (error) {
      if (error instanceof JobStoreNotFoundError) {
        throw new UnprocessableError(error.message, { cause: error, errors: [{ in: 'body', pointer: '#/objectKeys', detail: `${JSON.stringify(error.id)} is not a registered object of this tenant` }] });
      }
      if (error instanceof JobConflictError) throw new ConflictError(error.message, { cause: error, errors: [{ in: 'body', pointer: '#/name', detail: 'is taken' }] });
      throw mapStoreError(error);
    }
  }

  public async listDatasets(principal: Principal, requestedTenant: string | undefined, query: { limit: number; cursor?: string }): Promise<{ items: DatasetView[]; nextCursor: string | null }> {
    const tenantId = tenantFor(principal, requestedTenant);
    const page = await this.jobs.listDatasets(tenantId, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) }).catch((error: unknown) => {
      throw mapStoreError(error);
    });
    return { items: page.items.map(toDatasetView), nextCursor: page.nextCursor };
  }

  public async deleteDataset(principal: Principal, requestedTenant: string | undefined, datasetId: string): Promise<DatasetView> {
    const tenantId = tenantFor(principal, requestedTenant);
    try {
      return toDatasetView(await this.jobs.deleteDataset(tenantId, datasetId));
    } catch (error) {
      if (error instanceof JobStoreNotFoundError) throw new NotFoundError(`No dataset ${datasetId} is visible to you.`, { cause: error });
      throw mapStoreError(error);
    }
  }

  private async activeTenant(tenantId: string, action: string): Promise<TenantInfo> {
    const tenant = await this.tenantLookup(tenantId);
    if (!tenant) throw new NotFoundError(`No tenant ${tenantId} is visible to you.`);
    if (tenant.status !== 'ACTIVE') {
      throw new ConflictError(`Tenant ${tenant.name} is ${tenant.status}: only ACTIVE tenants can ${action}. Wait for provisioning to finish (GET /v1/tenants/${tenantId}).`);
    }
    return tenant;
  }
}

/** The tenant a call acts for: a tenant token's own, or the one a platform-admin names. */
function tenantFor(principal: Principal, requested: string | undefined): string {
  if (principal.kind === 'tenant') {
    if (requested !== undefined && requested !== principal.tenantId) {
      throw new ForbiddenError('A tenant token acts for its own tenant only: leave tenantId out.');
    }
    return principal.tenantId;
  }
  if (principal.role !== 'platform-admin') throw new ForbiddenError(`A ${principal.role} token cannot use the Job Manager: use a tenant token, or a platform-admin token with ?tenantId=.`);
  if (requested === undefined) {
    throw new BadRequestError('A platform-admin acts for one tenant at a time: pass ?tenantId=<tenant id>.', { errors: [{ in: 'query', pointer: '#/tenantId', detail: 'is required for platform-admin tokens' }] });
  }
  return requested;
}

function jobNotFound(jobId: string): NotFoundError {
  return new NotFoundError(`No job ${jobId} is visible to you.`);
}

function mapStoreError(error: unknown): unknown {
  if (error instanceof JobStoreValidationError) {
    return new BadRequestError(error.message, { cause: error, ...(/cursor/.test(error.message) ? { errors: [{ in: 'query' as const, pointer: '#/cursor', detail: 'is not a valid cursor' }] } : {}) });
  }
  if (error instanceof JobConflictError) return new ConflictError(error.message, { cause: error });
  return error;
}

export function toJobView(job: Job): JobView {
  return {
    id: job.jobId,
    tenantId: job.tenantId,
    status: job.status,
    steps: [...job.steps],
    inputDatasetId: job.inputDatasetId,
    inputBytes: job.inputBytes,
    requestedVcpu: job.requestedVcpu,
    placement: {
      tier: job.placement.tier,
      isolation: job.placement.isolation,
      namespace: job.placement.namespace,
      nodeSelector: job.placement.nodeSelector ? { ...job.placement.nodeSelector } : null,
      accountId: job.placement.accountId,
    },
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    cancelRequestedAt: job.cancelRequestedAt,
    attempts: job.attempts,
    completedSteps: job.completedSteps,
    usage: { ...job.usage },
    failure: job.failure ? { step: job.failure.step, reason: job.failure.reason } : null,
  };
}

function toDatasetView(dataset: Dataset): DatasetView {
  return {
    id: dataset.datasetId,
    tenantId: dataset.tenantId,
    name: dataset.name,
    objectKeys: [...dataset.objectKeys],
    sizeBytes: dataset.sizeBytes,
    status: dataset.status,
    createdAt: dataset.createdAt,
    deletedAt: dataset.deletedAt,
  };
}

function toObjectView(object: DataObject): DataObjectView {
  return { key: object.key, bytes: object.bytes, contentType: object.contentType, registeredAt: object.registeredAt };
}
