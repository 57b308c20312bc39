import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import { createDocument } from 'zod-openapi';
import { authenticate } from '../auth/authenticate.js';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { jsonBody } from './json-body.js';
import { problemMiddleware } from './problem.js';
import { requestLog } from './request-log.js';
import { mountRoutes, openApiPaths, type RouteSpec } from './route.js';

export interface ServiceAppProps {
  /** Shown in the OpenAPI document: `SaaS Tenancy Kit: <title>`. */
  readonly title: string;
  readonly routes: readonly RouteSpec[];
  /** What `GET /healthz` checks: the service's store answers. */
  readonly healthCheck: () => Promise<unknown>;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** @default '64kb' */
  readonly bodyLimit?: string;
}

/**
 * The Koa app every control-plane service is: request log, problem+json errors, `/healthz`,
 * `/openapi.json` generated from the routes, and the routes behind Cognito authentication.
 * It never listens (tests drive `app.callback()`).
 */
export function createServiceApp(props: ServiceAppProps): Koa {
  const app = new Koa();
  const router = new Router();
  const openapi = createDocument({
    openapi: '3.1.0',
    info: { title: `SaaS Tenancy Kit: ${props.title}`, version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths: openApiPaths(props.routes),
  });

  router.get('/healthz', async (ctx) => {
    await props.healthCheck();
    ctx.body = { status: 'ok' };
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  mountRoutes(router, props.routes, authenticate(props.verifier), jsonBody({ limit: props.bodyLimit ?? '64kb' }));

  app.use(requestLog(props.logger));
  app.use(problemMiddleware(props.logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
