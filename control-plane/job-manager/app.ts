import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import { createDocument } from 'zod-openapi';
import type { JobRepository } from '../../data-plane/index.js';
import { authenticate } from '../auth/authenticate.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { jsonBody } from '../http/json-body.js';
import { problemMiddleware } from '../http/problem.js';
import { requestLog } from '../http/request-log.js';
import { mountRoutes, openApiPaths } from '../http/route.js';
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
  const app = new Koa();
  const routes = jobManagerRoutes(new JobService(deps.repository, deps.tenantLookup));
  const router = new Router();
  const openapi = createDocument({
    openapi: '3.1.0',
    info: { title: 'SaaS Tenancy Kit: Job Manager', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths: openApiPaths(routes),
  });

  router.get('/healthz', async (ctx) => {
    await deps.repository.ping();
    ctx.body = { status: 'ok' };
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  mountRoutes(router, routes, authenticate(deps.verifier), jsonBody({ limit: deps.bodyLimit ?? '64kb' }));

  app.use(requestLog(deps.logger));
  app.use(problemMiddleware(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
