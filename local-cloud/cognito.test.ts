import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { CognitoIdentityProviderClient, DeleteUserPoolCommand, ListGroupsCommand, ListUserPoolsCommand, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ensureKitUserPool,
  issueLocalToken,
  KIT_ROLES,
  LocalCloudConflictError,
  LocalCloudError,
  LocalCloudServiceError,
  LocalCloudStartError,
  LocalCloudValidationError,
  startLocalCognito,
  type KitRole,
  type KitUserPool,
  type LocalCognito,
} from './index.js';

async function verifyIdToken(pool: KitUserPool, idToken: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(pool.jwksUrl));
  const { payload } = await jwtVerify(idToken, jwks, { issuer: pool.issuer, audience: pool.clientId });
  return payload;
}

function sdkClient(cognito: LocalCognito): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({ endpoint: cognito.endpoint, region: cognito.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
}

describe('local Cognito with the kit user pool', () => {
  let dataDir: string;
  let cognito: LocalCognito;
  let pool: KitUserPool;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'local-cloud-test-'));
    cognito = await startLocalCognito({ dataDir });
    pool = await ensureKitUserPool(cognito);
  });

  afterAll(async () => {
    await cognito?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and names the region', () => {
    expect(cognito.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cognito.region).toBe('local');
  });

  it('ensureKitUserPool finds the same pool, client and groups on a second call', async () => {
    const again = await ensureKitUserPool(cognito);
    expect(again).toEqual(pool);
    expect(pool.issuer).toBe(`${cognito.endpoint}/${pool.userPoolId}`);
    expect(pool.jwksUrl).toBe(`${cognito.endpoint}/${pool.userPoolId}/.well-known/jwks.json`);

    const client = sdkClient(cognito);
    try {
      const groups = await client.send(new ListGroupsCommand({ UserPoolId: pool.userPoolId }));
      expect((groups.Groups ?? []).map((group) => group.GroupName).sort()).toEqual([...KIT_ROLES].sort());
    } finally {
      client.destroy();
    }
  });

  it('another pool name gives another pool', async () => {
    const other = await ensureKitUserPool(cognito, { poolName: 'another-kit' });
    expect(other.userPoolId).not.toBe(pool.userPoolId);
    expect(other.clientId).not.toBe(pool.clientId);
  });

  it('issues a tenant-admin ID token that verifies against the JWKS and carries the tenant and the group', async () => {
    const tenantId = randomUUID();
    const token = await issueLocalToken(cognito, pool, { role: 'tenant-admin', tenantId });

    const claims = await verifyIdToken(pool, token.idToken);
    expect(claims['custom:tenant_id']).toBe(tenantId);
    expect(claims['cognito:groups']).toEqual(['tenant-admin']);
    expect(claims.email).toBe(`tenant-admin@${tenantId}.local`);
    expect(claims.token_use).toBe('id');
    expect(claims['cognito:username']).toBe(token.username);
    expect(token.expiresIn).toBe(3600);
    expect(decodeJwt(token.accessToken).client_id).toBe(pool.clientId);
  });

  it('a second call for the same user returns a fresh token and creates no user', async () => {
    const tenantId = randomUUID();
    const first = await issueLocalToken(cognito, pool, { role: 'tenant-user', tenantId });
    const second = await issueLocalToken(cognito, pool, { role: 'tenant-user', tenantId });

    expect(second.username).toBe(first.username);
    expect(second.idToken).not.toBe(first.idToken);
    expect((await verifyIdToken(pool, second.idToken))['custom:tenant_id']).toBe(tenantId);

    const client = sdkClient(cognito);
    try {
      const users = await client.send(new ListUsersCommand({ UserPoolId: pool.userPoolId, Filter: `email = "tenant-user@${tenantId}.local"` }));
      expect(users.Users?.map((user) => user.Username)).toEqual([first.username]);
    } finally {
      client.destroy();
    }
  });

  it.each(['platform-admin', 'onboarding'] as const)('a %s token carries the group and no tenant claim', async (role) => {
    const token = await issueLocalToken(cognito, pool, { role });
    const claims = await verifyIdToken(pool, token.idToken);
    expect(claims['cognito:groups']).toEqual([role]);
    expect(claims.email).toBe(`${role}@platform.local`);
    expect(claims).not.toHaveProperty('custom:tenant_id');
  });

  it('uses the email given', async () => {
    const tenantId = randomUUID();
    const token = await issueLocalToken(cognito, pool, { role: 'tenant-user', tenantId, email: 'ana@example.com' });
    expect((await verifyIdToken(pool, token.idToken)).email).toBe('ana@example.com');
  });

  it('refuses an existing user of another tenant', async () => {
    await issueLocalToken(cognito, pool, { role: 'tenant-admin', tenantId: randomUUID(), email: 'owner@example.com' });
    await expect(issueLocalToken(cognito, pool, { role: 'tenant-admin', tenantId: randomUUID(), email: 'owner@example.com' })).rejects.toThrow(
      LocalCloudConflictError,
    );
  });

  it('rejects a tenant id that is not a UUID, saying what it received', async () => {
    const attempt = issueLocalToken(cognito, pool, { role: 'tenant-admin', tenantId: 'acme' });
    await expect(attempt).rejects.toThrow(LocalCloudValidationError);
    await expect(attempt).rejects.toThrow(/tenantId must be a UUID.*received "acme"/);
  });

  it.each(['tenant-admin', 'tenant-user'] as const)('rejects %s without a tenant', async (role) => {
    await expect(issueLocalToken(cognito, pool, { role })).rejects.toThrow(new RegExp(`role '${role}' acts inside one tenant, so tenantId is required`));
  });

  it('rejects a tenant for a platform role', async () => {
    await expect(issueLocalToken(cognito, pool, { role: 'platform-admin', tenantId: randomUUID() })).rejects.toThrow(
      /belongs to no tenant.*Leave tenantId out/,
    );
  });

  it('rejects an unknown role, listing the valid ones', async () => {
    const attempt = issueLocalToken(cognito, pool, { role: 'root' as KitRole });
    await expect(attempt).rejects.toThrow(LocalCloudValidationError);
    await expect(attempt).rejects.toThrow('unknown role "root". Use one of: platform-admin, onboarding, tenant-admin, tenant-user.');
  });

  it('rejects a malformed email', async () => {
    await expect(issueLocalToken(cognito, pool, { role: 'onboarding', email: 'not-an-email' })).rejects.toThrow(/email must look like/);
  });

  it('validation errors are LocalCloudErrors with their own name', async () => {
    const error: unknown = await issueLocalToken(cognito, pool, { role: 'tenant-user', tenantId: '42' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LocalCloudError);
    expect((error as Error).name).toBe('LocalCloudValidationError');
  });

  it('refuses a port that is taken', async () => {
    const port = Number(new URL(cognito.endpoint).port);
    await expect(startLocalCognito({ port })).rejects.toThrow(LocalCloudStartError);
  });
});

describe('local Cognito lifecycle', () => {
  let dataDir: string;
  const started: LocalCognito[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'local-cloud-restart-'));
  });

  afterAll(async () => {
    await Promise.all(started.map((cognito) => cognito.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps pools and users when restarted on the same data folder', async () => {
    const first = await startLocalCognito({ dataDir });
    started.push(first);
    const pool = await ensureKitUserPool(first);
    const tenantId = randomUUID();
    const before = await issueLocalToken(first, pool, { role: 'tenant-admin', tenantId });
    await first.stop();

    const second = await startLocalCognito({ dataDir });
    started.push(second);
    const reopened = await ensureKitUserPool(second);
    expect(reopened.userPoolId).toBe(pool.userPoolId);
    expect(reopened.clientId).toBe(pool.clientId);

    const after = await issueLocalToken(second, reopened, { role: 'tenant-admin', tenantId });
    expect(after.username).toBe(before.username);
    expect((await verifyIdToken(reopened, after.idToken))['custom:tenant_id']).toBe(tenantId);
  });

  it('writes the pool file once for many changes, after writeDelayMs or on stop, and a restart finds them all', async () => {
    const folder = path.join(dataDir, 'coalesced');
    const first = await startLocalCognito({ dataDir: folder, writeDelayMs: 60_000 });
    started.push(first);
    const pool = await ensureKitUserPool(first);
    const poolFile = path.join(folder, 'db', `${pool.userPoolId}.json`);
    const usersOnDisk = async () => Object.keys((JSON.parse(await readFile(poolFile, 'utf8')) as { Users?: object }).Users ?? {});
    const tenants = [randomUUID(), randomUUID(), randomUUID()];
    const before = await Promise.all(tenants.map((tenantId) => issueLocalToken(first, pool, { role: 'tenant-admin', tenantId })));
    // The pool file was written when the pool was made; the users are in memory, waiting for the one write.
    expect(await usersOnDisk()).toEqual([]);

    await first.stop();
    expect((await usersOnDisk()).sort()).toEqual(before.map((token) => token.username).sort());

    const second = await startLocalCognito({ dataDir: folder, writeDelayMs: 20 });
    started.push(second);
    const reopened = await ensureKitUserPool(second);
    expect(reopened).toEqual({ ...pool, issuer: `${second.endpoint}/${pool.userPoolId}`, jwksUrl: `${second.endpoint}/${pool.userPoolId}/.well-known/jwks.json` });
    const after = await Promise.all(tenants.map((tenantId) => issueLocalToken(second, reopened, { role: 'tenant-admin', tenantId })));
    expect(after.map((token) => token.username)).toEqual(before.map((token) => token.username));

    // With a short delay the file follows without a stop.
    const late = await issueLocalToken(second, reopened, { role: 'tenant-user', tenantId: randomUUID() });
    const deadline = Date.now() + 5_000;
    while (!(await usersOnDisk()).includes(late.username) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await usersOnDisk()).toContain(late.username);
  });

  it('a deleted pool stays deleted across a restart', async () => {
    const folder = path.join(dataDir, 'deleted');
    const first = await startLocalCognito({ dataDir: folder, writeDelayMs: 50 });
    started.push(first);
    const pool = await ensureKitUserPool(first, { poolName: 'short-lived' });
    await issueLocalToken(first, pool, { role: 'tenant-admin', tenantId: randomUUID() });
    const client = sdkClient(first);
    try {
      await client.send(new DeleteUserPoolCommand({ UserPoolId: pool.userPoolId }));
    } finally {
      client.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.stop();
    expect(existsSync(path.join(folder, 'db', `${pool.userPoolId}.json`))).toBe(false);

    const second = await startLocalCognito({ dataDir: folder });
    started.push(second);
    const again = sdkClient(second);
    try {
      const pools = await again.send(new ListUserPoolsCommand({ MaxResults: 60 }));
      expect(pools.UserPools?.map((listed) => listed.Id)).not.toContain(pool.userPoolId);
    } finally {
      again.destroy();
    }
  });

  it('removes its temporary folder on stop, and stop can be called twice', async () => {
    const cognito = await startLocalCognito();
    started.push(cognito);
    expect(existsSync(cognito.dataDir)).toBe(true);
    await cognito.stop();
    await cognito.stop();
    expect(existsSync(cognito.dataDir)).toBe(false);
  });

  it('says the server is not running when called after stop', async () => {
    const cognito = await startLocalCognito();
    started.push(cognito);
    await cognito.stop();
    const attempt = ensureKitUserPool(cognito);
    await expect(attempt).rejects.toThrow(LocalCloudServiceError);
    await expect(attempt).rejects.toThrow(/ListUserPools.*start it first/s);
  });

  it('rejects a bad port', async () => {
    await expect(startLocalCognito({ port: 70_000 })).rejects.toThrow(/port must be an integer from 0 to 65535, received 70000/);
  });

  it('rejects a bad writeDelayMs, saying what it received', async () => {
    await expect(startLocalCognito({ writeDelayMs: -1 })).rejects.toThrow(/writeDelayMs must be a whole number of milliseconds from 0 to 60000, received -1/);
  });
});

describe('local Cognito triggers', () => {
  const received: PostAuthenticationTriggerEvent[] = [];
  let failing = false;
  let cognito: LocalCognito;
  let pool: KitUserPool;

  beforeAll(async () => {
    cognito = await startLocalCognito({
      triggers: {
        PostAuthentication: (event) => {
          received.push(event);
          return failing ? Promise.reject(new Error('the trigger failed')) : Promise.resolve(event);
        },
      },
    });
    pool = await ensureKitUserPool(cognito);
  });

  afterAll(async () => {
    await cognito?.stop();
  });

  it("calls PostAuthentication with cognito-local's event when issueLocalToken signs a user in", async () => {
    const tenantId = randomUUID();
    received.length = 0;
    const token = await issueLocalToken(cognito, pool, { role: 'tenant-user', tenantId });
    const claims = await verifyIdToken(pool, token.idToken);

    expect(received).toHaveLength(1);
    expect(received[0]).toEqual({
      version: '0',
      callerContext: { awsSdkVersion: expect.any(String), clientId: pool.clientId },
      region: 'local',
      userPoolId: pool.userPoolId,
      triggerSource: 'PostAuthentication_Authentication',
      userName: token.username,
      request: {
        userAttributes: expect.objectContaining({ sub: claims.sub, email: `tenant-user@${tenantId}.local`, 'custom:tenant_id': tenantId }),
        newDeviceUsed: false,
      },
      response: {},
    });
  });

  it('signs the user in when the trigger fails, as cognito-local ignores PostAuthentication errors', async () => {
    received.length = 0;
    failing = true;
    try {
      const token = await issueLocalToken(cognito, pool, { role: 'platform-admin' });
      expect(token.idToken.split('.')).toHaveLength(3);
      expect(received).toHaveLength(1);
    } finally {
      failing = false;
    }
  });

  it('rejects an unknown trigger, naming the supported ones', async () => {
    const attempt = startLocalCognito({ triggers: { PreSignUp: () => Promise.resolve({}) } as never });
    await expect(attempt).rejects.toThrow(LocalCloudValidationError);
    await expect(attempt).rejects.toThrow(/unknown trigger "PreSignUp". The local Cognito supports: PostAuthentication/);
  });

  it('rejects a trigger that is not a function', async () => {
    await expect(startLocalCognito({ triggers: { PostAuthentication: 'arn:aws:lambda:fn' as never } })).rejects.toThrow(/triggers.PostAuthentication must be a function/);
  });
});
