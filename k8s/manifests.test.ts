import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TIER_NAMES } from '../tenant-tiers/index.js';
import { KubeObjectValidationError, ManifestWriteError, TenantManifestInputError } from './errors.js';
import type { TenantManifestInput } from './input.js';
import { removeTenantManifests, synthTenantManifests, writeTenantManifests } from './manifests.js';
import type { TenantManifests } from './manifests.js';
import { manifestsFor, tenantInput } from './testing/fixtures.js';
import { validateKubeObjects } from './validate.js';
import type { KubeObject } from './validate.js';

describe('synthTenantManifests input', () => {
  const bad: readonly [string, Partial<Record<keyof TenantManifestInput, unknown>>, string][] = [
    ['a tenant name with capitals', { tenantName: 'Acme' }, 'tenantName'],
    ['a tenant name ending with -', { tenantName: 'acme-' }, 'tenantName'],
    ['a two-character tenant name', { tenantName: 'ac' }, 'tenantName'],
    ['an unknown tier', { tier: 'gold' }, 'tier'],
    ['a tenant id that is no uuid', { tenantId: 'tenant-1' }, 'tenantId'],
    ['an image with a space', { executorImage: 'executor :1' }, 'executorImage'],
    ['a system: admin group', { adminGroup: 'system:masters' }, 'adminGroup'],
    ['a role ARN of another service', { podIdentityRoleArn: 'arn:aws:s3:::bucket' }, 'podIdentityRoleArn'],
    ['an egress CIDR that is no CIDR', { egress: [{ name: 'kinesis', cidrs: ['10.0.0.0'], ports: [{ port: 443 }] }] }, 'egress[0].cidrs[0]'],
    ['an egress prefix out of range', { egress: [{ name: 'kinesis', cidrs: ['10.0.0.0/33'], ports: [{ port: 443 }] }] }, 'egress[0].cidrs[0]'],
    ['an egress port out of range', { egress: [{ name: 'kinesis', cidrs: ['10.0.0.0/8'], ports: [{ port: 70000 }] }] }, 'egress[0].ports[0].port'],
    ['an egress endpoint with no port', { egress: [{ name: 'kinesis', cidrs: ['10.0.0.0/8'], ports: [] }] }, 'egress[0].ports'],
    [
      'two egress endpoints with one name',
      { egress: [{ name: 'aws', cidrs: ['10.0.0.0/8'], ports: [{ port: 443 }] }, { name: 'aws', cidrs: ['10.1.0.0/16'], ports: [{ port: 443 }] }] },
      'egress[1].name',
    ],
  ];

  it.each(bad)('rejects %s, naming the field', (_, override, field) => {
    const input = { ...tenantInput('pool'), ...override } as TenantManifestInput;
    let caught: unknown;
    try {
      synthTenantManifests(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TenantManifestInputError);
    expect(caught).toMatchObject({ name: 'TenantManifestInputError', field });
    expect((caught as Error).message).toMatch(/must/);
  });

  it.each([
    'public.ecr.aws/saas-kit/executor:1',
    'localhost:5000/executor:dev-V2',
    `123456789012.dkr.ecr.eu-central-1.amazonaws.com/saas-kit/executor@sha256:${'a1'.repeat(32)}`,
  ])('accepts the image %s', (executorImage) => {
    expect(synthTenantManifests(tenantInput('pool', { executorImage })).objects.length).toBeGreaterThan(0);
  });

  it('says which tiers exist when the tier is unknown', () => {
    expect(() => synthTenantManifests({ ...tenantInput('pool'), tier: 'gold' as never })).toThrow(/tier: must be one of pool, bridge, silo \(received "gold"\)/);
  });
});

describe.each(TIER_NAMES)('the %s tenant\'s folder', (tier) => {
  const manifests = manifestsFor(tier);

  it('holds one YAML file per object, each parsing back to the object, under tenants/<name>/', () => {
    const objectFiles = Object.keys(manifests.files).filter((path) => !path.endsWith('/kustomization.yaml'));
    expect(objectFiles).toHaveLength(manifests.objects.length);
    expect(objectFiles.map((path) => parse(manifests.files[path]) as KubeObject)).toEqual(manifests.objects);
    for (const path of Object.keys(manifests.files)) expect(path.startsWith(`tenants/acme-${tier}/`)).toBe(true);
  });

  it('has a kustomization.yaml listing exactly its object files', () => {
    const kustomization = parse(manifests.files[`tenants/acme-${tier}/kustomization.yaml`]) as { apiVersion: string; kind: string; resources: string[] };
    expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    const listed = kustomization.resources.map((file) => `tenants/acme-${tier}/${file}`).sort();
    expect(listed).toEqual(Object.keys(manifests.files).filter((path) => !path.endsWith('/kustomization.yaml')).sort());
  });
});

describe('writeTenantManifests', () => {
  let root: string;
  beforeEach(async () => { root = await mkdtemp(join(tmpdir(), 'saas-kit-k8s-')); });
  afterEach(async () => { await rm(root, { recursive: true, force: true }); });

  async function folder(tenantName: string): Promise<Record<string, string>> {
    const dir = join(root, 'tenants', tenantName);
    const files = await readdir(dir);
    return Object.fromEntries(await Promise.all(files.map(async (f) => [`tenants/${tenantName}/${f}`, await readFile(join(dir, f), 'utf8')] as const)));
  }

  it('writes the folder, and a second write replaces it whole, leaving no staging folder behind', async () => {
    const first = synthTenantManifests(tenantInput('pool', { egress: [{ name: 'legacy', cidrs: ['10.9.0.0/16'], ports: [{ port: 443 }] }] }));
    expect(await writeTenantManifests(root, first)).toBe(join(root, 'tenants', 'acme-pool'));
    expect(await folder('acme-pool')).toEqual(first.files);

    const second = synthTenantManifests(tenantInput('pool'));
    await writeTenantManifests(root, second);
    const written = await folder('acme-pool');
    expect(written).toEqual(second.files);
    expect(Object.keys(written).some((p) => p.includes('legacy'))).toBe(false);
    expect(await readdir(join(root, '.staging'))).toEqual([]);
  });

  it('clears what a crashed write left in staging, and leaves other tenants alone', async () => {
    await mkdir(join(root, '.staging', 'acme-pool-Ab12Cd'), { recursive: true });
    await writeFile(join(root, '.staging', 'acme-pool-Ab12Cd', 'half.yaml'), 'apiVersion: v1\n');
    await mkdir(join(root, '.staging', 'globex-Zz99Yy'), { recursive: true });
    await writeTenantManifests(root, manifestsFor('pool'));
    expect(await readdir(join(root, '.staging'))).toEqual(['globex-Zz99Yy']);
  });

  it('refuses a file outside the tenant\'s folder and writes nothing', async () => {
    const manifests = manifestsFor('pool');
    const tampered: TenantManifests = { ...manifests, files: { ...manifests.files, 'tenants/globex/namespace.yaml': 'kind: Namespace\n' } };
    await expect(writeTenantManifests(root, tampered)).rejects.toThrow(ManifestWriteError);
    await expect(readdir(join(root, 'tenants'))).rejects.toThrow(/ENOENT/);
  });

  it('removes the folder; removing it again is success', async () => {
    await writeTenantManifests(root, manifestsFor('bridge'));
    await removeTenantManifests(root, 'acme-bridge');
    await removeTenantManifests(root, 'acme-bridge');
    expect(await readdir(join(root, 'tenants'))).toEqual([]);
  });
});

describe('validateKubeObjects', () => {
  const deployment = (): KubeObject => structuredClone<KubeObject>(manifestsFor('pool').objects.find((o) => o.kind === 'Deployment')!);

  it('names the object and the failing path', () => {
    const broken = deployment() as { spec: { replicas: unknown } } & KubeObject;
    broken.spec.replicas = 'one';
    let caught: unknown;
    try {
      validateKubeObjects([broken]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KubeObjectValidationError);
    expect(caught).toMatchObject({ object: 'Deployment/tenant-acme-pool/job-executor', path: '/spec/replicas' });
  });

  it('checks the admission policy too', () => {
    const policy = structuredClone(manifestsFor('pool').objects.find((o) => o.kind === 'ValidatingAdmissionPolicy')!) as KubeObject & { spec: { failurePolicy: string } };
    policy.spec.failurePolicy = 'Sometimes';
    expect(() => validateKubeObjects([policy])).toThrow(/ValidatingAdmissionPolicy\/saas-kit-tenant-acme-pool-pods .* at \/spec\/failurePolicy/);
  });

  it('refuses a kind it has no schema for, and an object with no name', () => {
    expect(() => validateKubeObjects([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toThrow(/no schema for example.com\/v1 Widget/);
    expect(() => validateKubeObjects([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: '' } }])).toThrow(KubeObjectValidationError);
  });
});
