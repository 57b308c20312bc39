import type Koa from 'koa';
import { createServiceApp } from '../http/service-app.js';
import type { Logger } from 'pino';
import type { JobRepository } from '../../data-plane/index.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { JobService, type TenantLookup } from './job-service.js';
import { jobManagerRoutes } from './routes.js';

/** The `source` of the events the Job Manager writes (job.submitted, datalake.*, job.cancelled of a QUEUED job). */
export const JOB_MANAGER_EVENT_SOURCE = 'control-plane/job-manager';

export interface JobManagerDeps {
  /** The job store; build it with `eventSource: JOB_MANAGER_EVENT_SOURCE`. */
  readonly repository: JobRepository;
  /** The tenant's tier, name and status: the control plane wires it to the Tenant Manager's store. */
  readonly tenantLookup: TenantLookup;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** @default '64kb' */
  readonly bodyLimit?: string;
}

/** Builds the Job Manager's Koa app; it never listens (tests drive `app.callback()`). */
export function createJobManagerApp(deps: JobManagerDeps): Koa {
  return createServiceApp({
    title: 'Job Manager',
    routes: jobManagerRoutes(new JobService(deps.repository, deps.tenantLookup)),
    healthCheck: () => deps.repository.ping(),
    verifier: deps.verifier,
    logger: deps.logger,
    ...(deps.bodyLimit ? { bodyLimit: deps.bodyLimit } : {}),
  });
}
