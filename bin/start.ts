import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFile, mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Database, TenantService, createApp, createTokenVerifier, type TokenVerifierOptions } from '../control-plane/index.js';
import { ensureKitUserPool, startLocalCognito, type LocalCognito } from '../local-cloud/index.js';

export interface ControlPlaneConfig {
  readonly host: string;
  readonly port: number;
  /** Where local state lives: PGlite's files, cognito-local's pools, the local endpoints file. */
  readonly dataDir: string;
  /** A Postgres server; unset, PGlite in `${dataDir}/pglite`. */
  readonly databaseUrl?: string;
  /** The region of the shared EKS cluster, for the tier policy. */
  readonly sharedRegion: string;
  /** `local`: start cognito-local on `localCognitoPort`; otherwise verify tokens of this Cognito pool. */
  readonly auth: { readonly mode: 'local'; readonly localCognitoPort: number } | ({ readonly mode: 'cognito' } & Pick<TokenVerifierOptions, 'jwksUrl' | 'issuer' | 'audience'>);
}

/** What `saas-kit token` reads to reach the local Cognito of a running kit. */
export interface LocalEndpoints {
  readonly cognito: { readonly endpoint: string; readonly region: string };
  readonly userPool: { readonly userPoolId: string; readonly clientId: string; readonly issuer: string; readonly jwksUrl: string };
  readonly api: string;
}

export const LOCAL_ENDPOINTS_FILE = 'local-endpoints.json';

export interface RunningControlPlane {
  readonly url: string;
  readonly localEndpoints?: LocalEndpoints;
  close(): Promise<void>;
}

/** Starts what `npm start` runs at this stage: the local cloud, the migrated database, the Tenant Manager. */
export async function startControlPlane(config: ControlPlaneConfig, logger: Logger): Promise<RunningControlPlane> {
  let cognito: LocalCognito | undefined;
  let verifierOptions: Pick<TokenVerifierOptions, 'jwksUrl' | 'issuer' | 'audience'>;
  let pool: LocalEndpoints['userPool'] | undefined;
  if (config.auth.mode === 'local') {
    cognito = await startLocalCognito({ dataDir: join(config.dataDir, 'cognito'), port: config.auth.localCognitoPort, logger });
    pool = await ensureKitUserPool(cognito);
    verifierOptions = { jwksUrl: pool.jwksUrl, issuer: pool.issuer, audience: pool.clientId };
    logger.info({ endpoint: cognito.endpoint, userPoolId: pool.userPoolId }, 'local Cognito ready');
  } else {
    verifierOptions = config.auth;
  }

  const db = new Database(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDataDir: join(config.dataDir, 'pglite') });
  await db.migrate();
  await new TenantService(db).syncPlans();
  logger.info({ database: db.dialect }, 'database migrated');

  const app = createApp({ db, verifier: createTokenVerifier(verifierOptions), logger, service: { tierPolicy: { sharedRegion: config.sharedRegion } } });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening)).once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${config.host}:${address.port}`;

  let localEndpoints: LocalEndpoints | undefined;
  if (cognito && pool) {
    localEndpoints = { cognito: { endpoint: cognito.endpoint, region: cognito.region }, userPool: pool, api: url };
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(join(config.dataDir, LOCAL_ENDPOINTS_FILE), JSON.stringify(localEndpoints, null, 2));
  }

  return {
    url,
    ...(localEndpoints ? { localEndpoints } : {}),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await db.destroy();
      await cognito?.stop();
    },
  };
}
