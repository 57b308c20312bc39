import pino from 'pino';
import supertest from 'supertest';
import { ensureKitUserPool, issueLocalToken, startLocalCognito, type KitRole, type KitUserPool, type LocalCognito } from '../../local-cloud/index.js';
import { createTokenVerifier } from '../auth/token-verifier.js';
import type { Database } from '../db/database.js';
import { createApp } from '../tenant-manager/app.js';
import { TenantService } from '../tenant-manager/tenant-service.js';
import { createTestDatabase, dropTestDatabase, type Backend } from './databases.js';

export interface ApiFixture {
  readonly api: ReturnType<typeof supertest>;
  readonly db: Database;
  readonly cognito: LocalCognito;
  readonly pool: KitUserPool;
  /** A real ID token from the local Cognito for the role (and tenant, for tenant roles). */
  token(role: KitRole, tenantId?: string): Promise<string>;
  close(): Promise<void>;
}

/** The Tenant Manager as `npm start` runs it: local Cognito, a migrated database, the Koa app. */
export async function startApiFixture(backend: Backend): Promise<ApiFixture> {
  const cognito = await startLocalCognito();
  const pool = await ensureKitUserPool(cognito);
  const db = await createTestDatabase(backend);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  await new TenantService(db).syncPlans();
  const verifier = createTokenVerifier({ jwksUrl: pool.jwksUrl, issuer: pool.issuer, audience: pool.clientId });
  const app = createApp({ db, verifier, logger });
  const tokens = new Map<string, string>();
  return {
    api: supertest(app.callback()),
    db,
    cognito,
    pool,
    async token(role, tenantId) {
      const key = `${role}/${tenantId ?? ''}`;
      let token = tokens.get(key);
      if (!token) {
        token = (await issueLocalToken(cognito, pool, { role, ...(tenantId ? { tenantId } : {}) })).idToken;
        tokens.set(key, token);
      }
      return token;
    },
    async close() {
      await dropTestDatabase(db);
      await cognito.stop();
    },
  };
}
