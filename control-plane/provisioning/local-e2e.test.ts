import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CognitoIdentityProviderClient, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKitUserPool, localCognitoClientConfig, startLocalCognito, type KitUserPool, type LocalCognito } from '../../local-cloud/index.js';
import { createTestDatabase, dropTestDatabase, BACKENDS } from '../testing/databases.js';
import type { Database } from '../db/database.js';
import { Tenant } from '../tenant-manager/models/index.js';
import { TenantService } from '../tenant-manager/tenant-service.js';
import { k8sManifests } from './k8s-manifests.js';
import { CognitoIdentityProvider } from './providers/aws/index.js';
import { createLocalProviders } from './providers/local/index.js';
import { reconcile } from './reconciler.js';
import { synthesizeStack } from './testing/fakes.js';
import { PLATFORM } from './testing/harness.js';
import { startProvisioningWorkers } from './workers.js';

/** What `npm start` runs: the real Cognito provider on cognito-local, the k8s chart, the local providers. */
describe.each(BACKENDS)('onboarding and offboarding with cognito-local and the k8s chart on %s', (backend) => {
  let cognito: LocalCognito;
  let pool: KitUserPool;
  let db: Database;
  let dataDir: string;
  beforeAll(async () => {
    cognito = await startLocalCognito();
    pool = await ensureKitUserPool(cognito);
    db = await createTestDatabase(backend);
    await new TenantService(db).syncPlans();
    dataDir = await mkdtemp(join(tmpdir(), 'saas-kit-e2e-'));
  });
  afterAll(async () => {
    await dropTestDatabase(db);
    await cognito.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('brings a bridge tenant to ACTIVE with its admin in the user pool, then offboards it with nothing left', async () => {
    const client = new CognitoIdentityProviderClient(localCognitoClientConfig(cognito));
    const providers = createLocalProviders({
      dataDir,
      identity: new CognitoIdentityProvider({ client, userPoolId: pool.userPoolId, inviteAdmin: false }),
      organizations: { creationDelayMs: 0 },
      stacks: { delayMs: 0 },
    });
    const workers = startProvisioningWorkers({
      db,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      providers,
      synthesizeStack,
      ...k8sManifests({ executorImage: 'saas-tenancy-kit/executor:1' }),
      pollIntervalMs: 5,
      idleMs: 20,
      accountRetentionMs: 0,
    });
    const tenants = new TenantService(db);
    const name = `e2e-${randomUUID().slice(0, 8)}`;
    const { tenant } = await tenants.register(PLATFORM, randomUUID(), { name, plan: 'enterprise', tierOverride: 'bridge', adminEmail: `admin@${name}.example` });
    const statusOf = async () => (await Tenant.query(db.knex).findById(tenant.id))?.status;
    const until = async (status: string) => {
      for (let i = 0; i < 1000 && (await statusOf()) !== status; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      if ((await statusOf()) !== status) console.log(JSON.stringify(await db.knex('workflow_steps').where('tenant_id', tenant.id).whereNot('status', 'SUCCEEDED')));
      expect(await statusOf()).toBe(status);
    };
    await until('ACTIVE');

    const admin = await client.send(new AdminGetUserCommand({ UserPoolId: pool.userPoolId, Username: `admin@${name}.example` }));
    expect(admin.UserAttributes).toEqual(expect.arrayContaining([{ Name: 'custom:tenant_id', Value: tenant.id }]));
    const applied = await providers.kubernetes.listApplied({ tenantId: tenant.id, tenantName: name, tier: 'bridge' }, { region: 'us-east-1' });
    expect(applied).toEqual(expect.arrayContaining([expect.stringMatching(/^NetworkPolicy\//), expect.stringMatching(/^ResourceQuota\//), expect.stringMatching(/^Deployment\//)]));
    expect((await reconcile({ db, providers }, tenant.id)).drift).toEqual([]);

    await tenants.requestOffboarding(PLATFORM, tenant.id);
    await until('OFFBOARDED');
    await workers.stop();
    expect(await providers.identity.tenantIdentityExists({ tenantId: tenant.id, tenantName: name, tier: 'bridge' })).toBe(false);
    expect((await reconcile({ db, providers }, tenant.id)).drift).toEqual([]);
  }, 60_000);
});
