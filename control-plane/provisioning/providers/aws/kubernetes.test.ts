import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { ClusterLocation, KubeObject, TenantRef } from '../../providers.js';
import {
  EKS_TOKEN_PREFIX,
  EksClusterClients,
  KubernetesServerSideApplier,
  ProviderRejectedError,
  ProviderBusyError,
  ProviderConfigurationError,
  ProviderConflictError,
  ProviderThrottledError,
  ProviderUnavailableError,
  type SiloCluster,
} from './index.js';
import { DEFAULT_RESOURCES, FakeKubernetesApi } from './testing/fake-kubernetes-api.js';
import { selfSignedCertificate } from './testing/tls.js';

const ACME: TenantRef = { tenantId: '3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60', tenantName: 'acme', tier: 'pool' };
const NS = 'tenant-acme';
/** Where pool and bridge tenants' objects go: the shared cluster, no account. */
const SHARED: ClusterLocation = { region: 'us-east-1' };
/** A silo tenant's own cluster: its account, and its data-residency region. */
const SILO_CLUSTER: ClusterLocation = { accountId: '222222222222', region: 'eu-central-1' };

function labels(tenant: TenantRef): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'saas-tenancy-kit', 'saas-kit/tenant': tenant.tenantName, 'saas-kit/tenant-id': tenant.tenantId, 'saas-kit/tier': tenant.tier };
}

/** The tenant's objects in the charts' shape, deliberately out of dependency order. */
function manifests(tenant: TenantRef): KubeObject[] {
  const namespace = `tenant-${tenant.tenantName}`;
  const meta = (name: string, namespaced = true): KubeObject['metadata'] => ({ name, ...(namespaced ? { namespace } : {}), labels: labels(tenant) });
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('job-executor'),
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'job-executor' } },
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'job-executor' } },
          spec: { serviceAccountName: 'job-executor', containers: [{ name: 'job-executor', image: 'public.ecr.aws/saas-kit/executor:1', resources: { limits: { cpu: '500m', memory: '512Mi' } } }] },
        },
      },
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta('tenant-admin'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `${namespace}-admins` }] },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: meta(`saas-kit-${namespace}`, false),
      spec: { policyName: `saas-kit-${namespace}`, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } } },
    },
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('quota'), spec: { hard: { pods: '20', 'services.loadbalancers': '0', 'services.nodeports': '0' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(namespace, false) },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: meta(`saas-kit-${namespace}`, false),
      spec: { failurePolicy: 'Fail', matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }] }, validations: [{ expression: '!has(object.spec.hostNetwork) || !object.spec.hostNetwork', message: 'hostNetwork is not allowed' }] },
    },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('default-deny'), spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('job-executor') },
  ];
}

describe('KubernetesServerSideApplier against a fake API server', () => {
  let cluster: FakeKubernetesApi;
  let applier: KubernetesServerSideApplier;

  beforeAll(async () => {
    cluster = await FakeKubernetesApi.start({ pageSize: 2 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  afterEach(async () => {
    // Each test starts from an empty cluster: remove what any tier of acme or globex left.
    for (const tenantName of ['acme', 'globex']) {
      for (const tier of ['pool', 'bridge'] as const) {
        cluster.slowNamespaceDeletion = false;
        await new KubernetesServerSideApplier({ api: cluster.client() }).remove({ ...ACME, tenantName, tier }, SHARED);
      }
    }
    cluster.requests.length = 0;
  });

  beforeAll(() => {
    applier = new KubernetesServerSideApplier({ api: cluster.client() });
  });

  it('server-side applies each object, namespace first, then admission policy and binding, then the rest', async () => {
    const objects = manifests(ACME);
    await applier.apply(ACME, SHARED, objects);

    const patches = cluster.requestsOf('PATCH');
    expect(patches.map((request) => request.path)).toEqual([
      `/api/v1/namespaces/${NS}`,
      `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/saas-kit-${NS}`,
      `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/saas-kit-${NS}`,
      `/api/v1/namespaces/${NS}/resourcequotas/quota`,
      `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/default-deny`,
      `/api/v1/namespaces/${NS}/serviceaccounts/job-executor`,
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/tenant-admin`,
      `/apis/apps/v1/namespaces/${NS}/deployments/job-executor`,
    ]);
    for (const request of patches) {
      expect(request.contentType).toBe('application/apply-patch+yaml');
      expect(request.query).toEqual({ fieldManager: 'saas-tenancy-kit', force: 'true' });
      expect(request.authorization).toBe('Bearer test-token');
    }
    // The body is the object itself, unchanged.
    const byPath = new Map(patches.map((request) => [request.path, request.body]));
    expect(byPath.get(`/apis/apps/v1/namespaces/${NS}/deployments/job-executor`)).toEqual(objects[0]);
    expect(byPath.get(`/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/saas-kit-${NS}`)).toEqual(objects[5]);
    expect(byPath.get(`/api/v1/namespaces/${NS}`)).toEqual(objects[4]);
    expect(cluster.stored()).toHaveLength(8);
  });

  it('applying again sends the same requests and changes nothing but resource versions', async () => {
    await applier.apply(ACME, SHARED, manifests(ACME));
    const first = cluster.requestsOf('PATCH').map(({ path, body }) => ({ path, body }));
    const uid = cluster.get('Deployment', 'job-executor', NS)?.metadata.uid;
    cluster.requests.length = 0;

    await applier.apply(ACME, SHARED, manifests(ACME));

    expect(cluster.requestsOf('PATCH').map(({ path, body }) => ({ path, body }))).toEqual(first);
    expect(cluster.stored()).toHaveLength(8);
    expect(cluster.get('Deployment', 'job-executor', NS)?.metadata.uid).toBe(uid);
  });

  it('does not mutate the objects it is given', async () => {
    const objects = manifests(ACME);
    const before = structuredClone(objects);
    await applier.apply(ACME, SHARED, objects);
    expect(objects).toEqual(before);
  });

  it('listApplied answers kind/namespace/name of the tenant and tier only, across pages', async () => {
    await applier.apply(ACME, SHARED, manifests(ACME));
    const globex = { ...ACME, tenantName: 'globex' };
    await applier.apply(globex, SHARED, manifests(globex));

    const applied = await applier.listApplied(ACME, SHARED);

    expect([...applied].sort()).toEqual(
      [
        `Namespace/${NS}`,
        `ValidatingAdmissionPolicy/saas-kit-${NS}`,
        `ValidatingAdmissionPolicyBinding/saas-kit-${NS}`,
        `ResourceQuota/${NS}/quota`,
        `NetworkPolicy/${NS}/default-deny`,
        `ServiceAccount/${NS}/job-executor`,
        `RoleBinding/${NS}/tenant-admin`,
        `Deployment/${NS}/job-executor`,
      ].sort(),
    );
    const lists = cluster.requestsOf('GET').filter((request) => request.query.labelSelector !== undefined);
    expect(lists[0]?.query).toEqual({ labelSelector: 'saas-kit/tenant=acme,saas-kit/tier=pool', limit: '500' });
    // Namespaced kinds are listed across all namespaces; a full page is followed by its continue token.
    expect(lists.map((request) => request.path)).toContain('/apis/apps/v1/deployments');
    expect(lists.some((request) => request.query.continue !== undefined)).toBe(false);
    await expect(applier.listApplied({ ...ACME, tenantName: 'initech' }, SHARED)).resolves.toEqual([]);
  });

  it('follows continue tokens when a kind has more objects than a page', async () => {
    const objects = manifests(ACME);
    const extraPolicies = ['allow-dns', 'allow-same-namespace', 'allow-egress'].map((name) => ({ ...objects[6], metadata: { ...objects[6]?.metadata, name } }));
    await applier.apply(ACME, SHARED, [...objects, ...extraPolicies]);
    cluster.requests.length = 0;

    const applied = await applier.listApplied(ACME, SHARED);

    expect(applied.filter((ref) => ref.startsWith('NetworkPolicy/'))).toHaveLength(4);
    const policyLists = cluster.requestsOf('GET').filter((request) => request.path === '/apis/networking.k8s.io/v1/networkpolicies');
    expect(policyLists.map((request) => request.query.continue)).toEqual([undefined, '2']);
  });

  it("remove deletes the namespace and the tenant's cluster-scoped objects, binding before policy; a second remove does nothing", async () => {
    await applier.apply(ACME, SHARED, manifests(ACME));
    cluster.requests.length = 0;

    await applier.remove(ACME, SHARED);

    expect(cluster.requestsOf('DELETE').map((request) => request.path)).toEqual([
      `/api/v1/namespaces/${NS}`,
      `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/saas-kit-${NS}`,
      `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/saas-kit-${NS}`,
    ]);
    expect(cluster.requestsOf('DELETE').every((request) => request.query.propagationPolicy === 'Background')).toBe(true);
    expect(cluster.stored()).toEqual([]);
    await expect(applier.listApplied(ACME, SHARED)).resolves.toEqual([]);

    cluster.requests.length = 0;
    await applier.remove(ACME, SHARED);
    expect(cluster.requestsOf('DELETE')).toEqual([]);
  });

  it('remove returns without waiting: a namespace still terminating shows in listApplied', async () => {
    await applier.apply(ACME, SHARED, manifests(ACME));
    cluster.slowNamespaceDeletion = true;

    await applier.remove(ACME, SHARED);

    const left = await applier.listApplied(ACME, SHARED);
    expect(left).toContain(`Namespace/${NS}`);
    expect(left).not.toContain(`ValidatingAdmissionPolicy/saas-kit-${NS}`);
  });

  it('applying into a namespace that is being deleted is a retryable busy error', async () => {
    await applier.apply(ACME, SHARED, manifests(ACME));
    cluster.slowNamespaceDeletion = true;
    await applier.remove(ACME, SHARED);

    const attempt = applier.apply(ACME, SHARED, manifests(ACME));
    await expect(attempt).rejects.toThrow(ProviderBusyError);
    await expect(attempt).rejects.toMatchObject({ retryable: true });
    await expect(attempt).rejects.toThrow(/ResourceQuota\/tenant-acme\/quota.*HTTP 403 Forbidden.*being terminated/);
  });

  it('a pool -> bridge move re-labels the namespace, so removing the pool placement leaves bridge intact', async () => {
    await applier.apply(ACME, SHARED, manifests(ACME));
    const bridge: TenantRef = { ...ACME, tier: 'bridge' };
    await applier.apply(bridge, SHARED, manifests(bridge));
    cluster.requests.length = 0;

    await applier.remove(ACME, SHARED);

    expect(cluster.requestsOf('DELETE')).toEqual([]);
    await expect(applier.listApplied(ACME, SHARED)).resolves.toEqual([]);
    await expect(applier.listApplied(bridge, SHARED)).resolves.toHaveLength(8);
  });

  it('refuses, before any request, an object without the tenant and tier labels', async () => {
    const objects = manifests(ACME);
    const unlabelled = { ...objects[3], metadata: { name: 'quota', namespace: NS } } as KubeObject;

    const attempt = applier.apply(ACME, SHARED, [objects[4], unlabelled]);
    await expect(attempt).rejects.toThrow(ProviderConflictError);
    await expect(attempt).rejects.toThrow(/ResourceQuota\/tenant-acme\/quota has label saas-kit\/tenant=null, not acme/);
    expect(cluster.requests).toEqual([]);

    await expect(applier.apply({ ...ACME, tier: 'bridge' }, SHARED, manifests(ACME))).rejects.toThrow(/saas-kit\/tier="pool", not bridge/);
  });

  it('throttling (429) is retryable, a server error (500) is retryable', async () => {
    cluster.failNext = { status: 429, times: 1 };
    await expect(applier.apply(ACME, SHARED, manifests(ACME))).rejects.toThrow(ProviderThrottledError);
    cluster.failNext = { status: 500, times: 1 };
    await expect(applier.listApplied(ACME, SHARED)).rejects.toThrow(ProviderUnavailableError);
    cluster.failNext = undefined;
  });

  it("a silo tenant goes to its own cluster, asked of siloApi by the location's account and region and the tenant's name", async () => {
    const silo: TenantRef = { ...ACME, tier: 'silo' };
    const own = await FakeKubernetesApi.start();
    try {
      const asked: SiloCluster[] = [];
      const ownClient = own.client('silo-token');
      const withSilo = new KubernetesServerSideApplier({
        api: cluster.client(),
        siloApi: (target) => {
          asked.push(target);
          return Promise.resolve(ownClient);
        },
      });
      await withSilo.apply(silo, SILO_CLUSTER, manifests(silo));

      expect(asked).toEqual([{ accountId: '222222222222', region: 'eu-central-1', tenantName: 'acme' }]);
      expect(own.stored()).toHaveLength(8);
      expect(own.requestsOf('PATCH')[0]?.authorization).toBe('Bearer silo-token');
      expect(cluster.requestsOf('PATCH')).toEqual([]);
      await expect(withSilo.listApplied(silo, SILO_CLUSTER)).resolves.toHaveLength(8);
      await withSilo.remove(silo, SILO_CLUSTER);
      expect(own.stored()).toEqual([]);
      expect(asked).toHaveLength(3);
    } finally {
      await own.stop();
    }
  });

  it("applies a silo tenant through EksClusterClients: the endpoint and CA DescribeCluster gives, and the EKS token", async () => {
    const silo: TenantRef = { ...ACME, tier: 'silo' };
    const tls = selfSignedCertificate();
    const own = await FakeKubernetesApi.start({ tls });
    const eks = mockClient(EKSClient);
    try {
      eks.on(DescribeClusterCommand, { name: 'saas-kit-tenant-acme' }).resolves({
        cluster: { name: 'saas-kit-tenant-acme', status: 'ACTIVE', endpoint: own.url, certificateAuthority: { data: tls.caData } },
      });
      const clients = new EksClusterClients({
        credentials: () => () => Promise.resolve({ accessKeyId: 'ASIAEXAMPLEACCESSKEY', secretAccessKey: 'secret', sessionToken: 'session' }),
      });
      const withSilo = new KubernetesServerSideApplier({ api: cluster.client(), siloApi: (target) => clients.client(target) });

      await withSilo.apply(silo, SILO_CLUSTER, manifests(silo));

      expect(own.url).toMatch(/^https:/);
      expect(own.stored()).toHaveLength(8);
      const token = (await clients.connection({ accountId: '222222222222', region: 'eu-central-1', tenantName: 'acme' })).token;
      expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
      expect(new Set(own.requests.map((request) => request.authorization))).toEqual(new Set([`Bearer ${token}`]));
      expect(cluster.requests).toEqual([]);
      await expect(withSilo.listApplied(silo, SILO_CLUSTER)).resolves.toHaveLength(8);
      // One DescribeCluster: the client is kept between calls.
      expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    } finally {
      eks.restore();
      await own.stop();
    }
  });

  it("refuses a silo cluster whose certificate the CA DescribeCluster gives does not sign", async () => {
    const silo: TenantRef = { ...ACME, tier: 'silo' };
    const own = await FakeKubernetesApi.start({ tls: selfSignedCertificate() });
    const eks = mockClient(EKSClient);
    try {
      eks.on(DescribeClusterCommand).resolves({ cluster: { status: 'ACTIVE', endpoint: own.url, certificateAuthority: { data: selfSignedCertificate().caData } } });
      const clients = new EksClusterClients({ credentials: () => () => Promise.resolve({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }) });
      const withSilo = new KubernetesServerSideApplier({ api: cluster.client(), siloApi: (target) => clients.client(target) });

      await expect(withSilo.apply(silo, SILO_CLUSTER, manifests(silo))).rejects.toThrow(ProviderRejectedError);
      expect(own.requests).toEqual([]);
    } finally {
      eks.restore();
      await own.stop();
    }
  });

  it('refuses a silo tenant without siloApi, a silo location without an account, and a shared tier at an account', async () => {
    const silo: TenantRef = { ...ACME, tier: 'silo' };
    const withSilo = new KubernetesServerSideApplier({ api: cluster.client(), siloApi: () => Promise.resolve(cluster.client()) });

    await expect(applier.apply(silo, SILO_CLUSTER, manifests(silo))).rejects.toThrow(/has no siloApi/);
    await expect(withSilo.apply(silo, SHARED, manifests(silo))).rejects.toThrow(/names no account\. Pass \{ accountId, region \}/);
    await expect(withSilo.listApplied(ACME, SILO_CLUSTER)).rejects.toThrow(/whose objects go to the shared cluster, but the cluster location names account 222222222222/);
    for (const attempt of [applier.listApplied(silo, SILO_CLUSTER), withSilo.remove(silo, SHARED)]) {
      await expect(attempt).rejects.toThrow(ProviderConfigurationError);
    }
    expect(cluster.requests).toEqual([]);
  });
});

describe('KubernetesServerSideApplier on a cluster older than 1.30 or unreachable', () => {
  it('a cluster without ValidatingAdmissionPolicy v1: listing skips the kind, applying it is a configuration error', async () => {
    // Everything of a current cluster but the admission policies.
    const old = await FakeKubernetesApi.start({ resources: { ...DEFAULT_RESOURCES, 'admissionregistration.k8s.io/v1': [] } });
    try {
      const applier = new KubernetesServerSideApplier({ api: old.client() });
      await expect(applier.listApplied(ACME, SHARED)).resolves.toEqual([]);
      const attempt = applier.apply(ACME, SHARED, manifests(ACME));
      await expect(attempt).rejects.toThrow(ProviderConfigurationError);
      await expect(attempt).rejects.toThrow(/does not serve this kind.*1\.30/);
    } finally {
      await old.stop();
    }
  });

  it('a cluster that does not answer is a retryable unavailable error', async () => {
    const gone = await FakeKubernetesApi.start();
    const api = gone.client();
    await gone.stop();

    const error: unknown = await new KubernetesServerSideApplier({ api }).listApplied(ACME, SHARED).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({ retryable: true });
  });
});
