import type Koa from 'koa';
import { createServiceApp } from '../http/service-app.js';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/token-verifier.js';
import type { Database } from '../db/database.js';
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
  const provisioning = deps.provisioning ?? new ProvisioningService(deps.db, deps.service?.clock ? { clock: deps.service.clock } : {});
  return createServiceApp({
    title: 'Tenant Manager',
    routes: [...tenantManagerRoutes(new TenantService(deps.db, deps.service)), ...provisioningRoutes(provisioning)],
    healthCheck: () => deps.db.knex.raw('SELECT 1'),
    verifier: deps.verifier,
    logger: deps.logger,
    ...(deps.bodyLimit ? { bodyLimit: deps.bodyLimit } : {}),
  });
}
