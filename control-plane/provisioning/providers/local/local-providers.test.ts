import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalProviderError } from '../../errors.js';
import { renderManifests } from '../../testing/fakes.js';
import { LocalKubernetes } from './kubernetes.js';
import { LocalOrganizations } from './organizations.js';
import { LocalStackDeployer } from './stacks.js';

const tenant = { tenantId: '6f1c1c9e-8f1e-4a56-9a61-1f1f1f1f1f1f', tenantName: 'acme', tier: 'silo' as const };

describe('local providers', () => {
  let dataDir: string;
  let now: number;
  const clock = () => new Date(now);
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'saas-kit-local-providers-'));
    now = Date.parse('2026-01-01T00:00:00Z');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('LocalOrganizations', () => {
    it('creates an account asynchronously, moves it to the tenants OU, closes it, and keeps it in a JSON file', async () => {
      const org = new LocalOrganizations({ dataDir, creationDelayMs: 1000, closureDelayMs: 500, clock });
      const started = await org.startAccountCreation({ email: 'aws+acme@x.example', accountName: 'tenant-acme', tenant });
      if (!('requestId' in started)) throw new Error('expected a request');
      expect(await org.accountCreationStatus(started.requestId)).toEqual({ state: 'IN_PROGRESS' });
      // A second start while in flight finds the same request: no second account.
      expect(await org.startAccountCreation({ email: 'AWS+acme@x.example', accountName: 'tenant-acme', tenant })).toEqual(started);
      now += 1000;
      const done = await org.accountCreationStatus(started.requestId);
      if (done.state !== 'SUCCEEDED') throw new Error('expected SUCCEEDED');
      expect(done.result.accountId).toMatch(/^\d{12}$/);
      expect(await org.startAccountCreation({ email: 'aws+acme@x.example', accountName: 'tenant-acme', tenant })).toEqual({ existingAccountId: done.result.accountId });
      await org.moveToTenantsOu(done.result.accountId);

      const reloaded = new LocalOrganizations({ dataDir, closureDelayMs: 500, clock });
      expect(await reloaded.accounts()).toEqual([{ id: done.result.accountId, email: 'aws+acme@x.example', status: 'ACTIVE', ou: 'tenants' }]);
      await reloaded.closeAccount(done.result.accountId);
      await reloaded.closeAccount(done.result.accountId);
      expect(await reloaded.accountState(done.result.accountId)).toBe('PENDING_CLOSURE');
      now += 500;
      expect(await reloaded.accountState(done.result.accountId)).toBe('SUSPENDED');
      expect(await reloaded.accountState('000000000000')).toBeNull();
      await expect(reloaded.moveToTenantsOu('000000000000')).rejects.toThrow(/AccountNotFoundException/);
      // The email of a closed account cannot be used again.
      const again = await reloaded.startAccountCreation({ email: 'aws+acme@x.example', accountName: 'tenant-acme', tenant });
      now += 2000;
      expect(await reloaded.accountCreationStatus('requestId' in again ? again.requestId : '')).toEqual({ state: 'FAILED', reason: 'EMAIL_ALREADY_EXISTS' });
    });

    it('finds a creation started earlier without starting one: in flight, then its account; nothing once failed or closed', async () => {
      const org = new LocalOrganizations({ creationDelayMs: 1000, closureDelayMs: 0, failures: { 'full@x.example': 'ACCOUNT_LIMIT_EXCEEDED' }, clock });
      const request = { email: 'aws+acme@x.example', accountName: 'tenant-acme', tenant };
      expect(await org.findAccountCreation(request)).toBeUndefined();
      const started = await org.startAccountCreation(request);
      expect(await org.findAccountCreation({ ...request, email: 'AWS+acme@x.example' })).toEqual(started);
      now += 1000;
      const found = await org.findAccountCreation(request);
      if (!found || !('existingAccountId' in found)) throw new Error('expected the account');
      await org.closeAccount(found.existingAccountId);
      expect(await org.findAccountCreation(request)).toBeUndefined();
      await org.startAccountCreation({ ...request, email: 'full@x.example' });
      now += 1000;
      expect(await org.findAccountCreation({ ...request, email: 'full@x.example' })).toBeUndefined();
      expect(await org.creationRequests()).toHaveLength(2);
    });

    it('fails creations on request: injected reasons per email and emails outside the organization', async () => {
      const org = new LocalOrganizations({ creationDelayMs: 0, failures: { 'full@x.example': 'ACCOUNT_LIMIT_EXCEEDED' }, externalEmails: ['taken@x.example'], clock });
      const status = async (email: string) => {
        const started = await org.startAccountCreation({ email, accountName: 'n', tenant });
        return org.accountCreationStatus('requestId' in started ? started.requestId : '');
      };
      expect(await status('full@x.example')).toEqual({ state: 'FAILED', reason: 'ACCOUNT_LIMIT_EXCEEDED' });
      expect(await status('taken@x.example')).toEqual({ state: 'FAILED', reason: 'EMAIL_ALREADY_EXISTS' });
      org.stopFailing('full@x.example');
      expect((await status('full@x.example')).state).toBe('SUCCEEDED');
      await expect(org.accountCreationStatus('car-unknown')).rejects.toThrow(/CreateAccountStatusNotFoundException/);
    });
  });

  describe('LocalStackDeployer', () => {
    const template = { Resources: { Role: { Type: 'AWS::IAM::Role' } }, Outputs: { RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] } }, Tier: { Value: 'silo' } } };
    const where = { stackName: 'tenant-acme-silo', accountId: '123456789012', region: 'eu-central-1' };

    it('writes the template, completes after the delay with its outputs, reuses an identical deployment, and deletes', async () => {
      const stacks = new LocalStackDeployer({ dataDir, delayMs: 100, clock });
      await stacks.startDeployment({ ...where, template, tags: { tenant: 'acme' } });
      expect(JSON.parse(readFileSync(join(dataDir, 'stacks', '123456789012', 'tenant-acme-silo.json'), 'utf8')).template).toEqual(template);
      expect(await stacks.deploymentStatus(where)).toEqual({ state: 'IN_PROGRESS' });
      now += 100;
      expect(await stacks.deploymentStatus(where)).toEqual({ state: 'SUCCEEDED', result: { outputs: { RoleArn: 'local:tenant-acme-silo:RoleArn', Tier: 'silo' } } });
      await stacks.startDeployment({ ...where, template, tags: { tenant: 'acme' } });
      expect(await stacks.deploymentStatus(where)).toMatchObject({ state: 'SUCCEEDED' });
      expect(stacks.creationsOf(where)).toBe(1);

      await stacks.startDeletion(where);
      expect(await stacks.deletionStatus(where)).toEqual({ state: 'IN_PROGRESS' });
      expect(await stacks.stackExists(where)).toBe(true);
      now += 100;
      expect(await stacks.deletionStatus(where)).toEqual({ state: 'SUCCEEDED', result: null });
      expect(await stacks.stackExists(where)).toBe(false);
      await stacks.startDeletion(where);
      expect(existsSync(stacks.fileOf(where))).toBe(false);
    });

    it('rolls back a deployment that fails, with the reason', async () => {
      const stacks = new LocalStackDeployer({ dataDir, delayMs: 0, clock, failures: { 'tenant-acme-silo': 'NodeGroup: CREATE_FAILED (Resource handler returned message: "Instance type not supported")' } });
      await stacks.startDeployment({ ...where, template, tags: {} });
      expect(await stacks.deploymentStatus(where)).toEqual({ state: 'FAILED', reason: expect.stringMatching(/^ROLLBACK_COMPLETE: NodeGroup: CREATE_FAILED/) });
    });
  });

  describe('LocalKubernetes', () => {
    const shared = { region: 'us-east-1' };
    const own = { accountId: '222222222222', region: 'eu-central-1' };

    it("writes each cluster's folder, lists what is applied from the files, and removes it", async () => {
      const kubernetes = new LocalKubernetes({ dataDir });
      const pool = { ...tenant, tier: 'pool' as const };
      await kubernetes.apply(pool, shared, await renderManifests({ tenant: pool, region: 'us-east-1' }));
      await kubernetes.apply(tenant, own, await renderManifests({ tenant, region: 'us-east-1' }));
      expect(existsSync(join(dataDir, 'manifests', 'tenants', 'acme', 'kustomization.yaml'))).toBe(true);
      expect(existsSync(join(dataDir, 'manifests', 'clusters', 'acme', 'tenants', 'acme', 'kustomization.yaml'))).toBe(true);
      expect(await kubernetes.listApplied(pool, shared)).toEqual(['Deployment/acme/job-executor', 'Namespace/acme', 'ResourceQuota/acme/tenant-quota']);
      await kubernetes.apply(pool, shared, (await renderManifests({ tenant: pool, region: 'us-east-1' })).slice(0, 1));
      expect(await kubernetes.listApplied(pool, shared)).toEqual(['Namespace/acme']);
      await kubernetes.remove(pool, shared);
      await kubernetes.remove(pool, shared);
      expect(await kubernetes.listApplied(pool, shared)).toEqual([]);
      expect(await kubernetes.listApplied(tenant, own)).toHaveLength(3);
    });

    it('refuses a location that does not fit the tier, as the AWS applier does', async () => {
      const kubernetes = new LocalKubernetes({ dataDir });
      const pool = { ...tenant, tier: 'pool' as const };
      await expect(kubernetes.apply(tenant, shared, [])).rejects.toThrow(LocalProviderError);
      await expect(kubernetes.listApplied(tenant, shared)).rejects.toThrow(/has a cluster of its own, in its account, but the location names no account/);
      await expect(kubernetes.remove(pool, own)).rejects.toThrow(/is on the shared cluster, but the location names account 222222222222/);
    });
  });
});
