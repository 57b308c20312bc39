/** The job and data-lake records as the Job Manager and the executor see them, the job state machine and placement. */
import { TIERS, type Isolation, type TierName } from '../../tenant-tiers/index.js';
import type { JobStep } from '../events/data/job.js';

export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/**
 * Which status may follow which. QUEUED jobs are claimed (RUNNING) or cancelled at once; a cancel of a
 * RUNNING job is a request (CANCELLING) the executor honours between steps. Every change is a conditional
 * write on the status and the version, so of two writers only one wins.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ['RUNNING', 'CANCELLED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'CANCELLING'],
  CANCELLING: ['CANCELLED'],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

/** What a job used so far; the figures of its job.succeeded/failed/cancelled event. */
export interface JobUsage {
  /** Time the job's steps ran, in milliseconds of the modelled platform (see the executor's `timeScale`). */
  readonly durationMs: number;
  /** vCPU-milliseconds. */
  readonly vcpuMs: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

export const NO_USAGE: JobUsage = Object.freeze({ durationMs: 0, vcpuMs: 0, bytesRead: 0, bytesWritten: 0 });

/** Where a job runs: from the tenant's tier, by the `TIERS` table. */
export interface JobPlacement {
  readonly tier: TierName;
  readonly isolation: Isolation;
  /** The tenant's Kubernetes namespace: `tenant-<name>` in every tier. */
  readonly namespace: string;
  /** Node labels the job's pods select: the tenant's own node group, or `null` on shared nodes. */
  readonly nodeSelector: Readonly<Record<string, string>> | null;
  /** The tenant's AWS account for `account` isolation when known, otherwise `null`. */
  readonly accountId: string | null;
  /** What an executor polls for: `<isolation>/<namespace>`. One executor deployment per tenant and tier. */
  readonly key: string;
}

/** The node label of a tenant's dedicated node group (bridge). */
export const TENANT_NODE_LABEL = 'saas-kit/tenant';

/**
 * The placement of a tenant's jobs, from the tier table alone: `namespace` isolation runs on the shared
 * nodes, `node-group` pins the pods to the tenant's node group, `account` runs in the tenant's account.
 */
export function placementFor(tier: TierName, tenantName: string, accountId?: string): JobPlacement {
  const spec = TIERS[tier];
  const namespace = `tenant-${tenantName}`;
  return {
    tier,
    isolation: spec.isolation,
    namespace,
    nodeSelector: spec.nodeGroup !== null && spec.isolation === 'node-group' ? { [TENANT_NODE_LABEL]: tenantName } : null,
    accountId: spec.isolation === 'account' ? (accountId ?? null) : null,
    key: `${spec.isolation}/${namespace}`,
  };
}

export interface Job {
  readonly jobId: string;
  readonly tenantId: string;
  readonly status: JobStatus;
  /** Raised by every transition; the condition of the next one. */
  readonly version: number;
  readonly steps: readonly JobStep[];
  readonly inputDatasetId: string | null;
  /** Size of the input dataset when the job was submitted. */
  readonly inputBytes: number;
  readonly requestedVcpu: number;
  readonly placement: JobPlacement;
  /** Who submitted it (the token's subject). */
  readonly submittedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly cancelRequestedAt: string | null;
  /** The executor holding the job while RUNNING or CANCELLING. */
  readonly workerId: string | null;
  /** Epoch milliseconds after which another executor may re-claim the job. */
  readonly leaseExpiresAt: number | null;
  /** Claims so far: 1 normally, more after re-claims. */
  readonly attempts: number;
  /** Steps finished (a re-claimed job resumes after them). */
  readonly completedSteps: number;
  readonly usage: JobUsage;
  readonly failure: { readonly step: JobStep | null; readonly reason: string } | null;
}

export interface DataObject {
  readonly tenantId: string;
  readonly key: string;
  readonly bytes: number;
  readonly contentType: string;
  readonly registeredAt: string;
}

export interface Dataset {
  readonly datasetId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly objectKeys: readonly string[];
  readonly sizeBytes: number;
  readonly status: 'ACTIVE' | 'DELETED';
  readonly createdAt: string;
  readonly deletedAt: string | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass back as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}
