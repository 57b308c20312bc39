import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import { createDocument } from 'zod-openapi';
import { authenticate } from '../auth/authenticate.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { Database } from '../db/database.js';
import { jsonBody } from '../http/json-body.js';
import { problemMiddleware } from '../http/problem.js';
import { requestLog } from '../http/request-log.js';
import { mountRoutes, openApiPaths } from '../http/route.js';
import { provisioningRoutes } from '../provisioning/routes.js';
import { ProvisioningService } from '../provisioning/service.js';
import { tenantManagerRoutes } from './routes.js';
import { TenantService, type TenantServiceOptions } from './tenant-service.js';

export interface TenantManagerDeps {
  readonly db: Database;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly service?: TenantServiceOptions;
  /**
   * The provisioning API's service (`GET /v1/tenants/{id}/provisioning`, `POST .../retry`).
   * @default - one over `db`
   */
  readonly provisioning?: ProvisioningService;
  /** @default '64kb' */
  readonly bodyLimit?: string;
}

/** Builds the Tenant Manager's Koa app; it never listens (tests drive `app.callback()`). */
export function createApp(deps: TenantManagerDeps): Koa {
  const app = new Koa();
  const service = new TenantService(deps.db, deps.service);
  const routes = [...tenantManagerRoutes(service), ...provisioningRoutes(deps.provisioning ?? new ProvisioningService(deps.db, deps.service?.clock ? { clock: deps.service.clock } : {}))];
  const router = new Router();
  const openapi = createDocument({
    openapi: '3.1.0',
    info: { title: 'SaaS Tenancy Kit: Tenant Manager', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths: openApiPaths(routes),
  });

  router.get('/healthz', async (ctx) => {
    await deps.db.knex.raw('SELECT 1');
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
