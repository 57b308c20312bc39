import { describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_SERVICE_ACCOUNT, TENANT_NODE_LABEL_KEY, TENANT_NODE_TAINT_KEY, TIERS, TIER_NAMES } from '../tenant-tiers/index.js';
import type { TierName } from '../tenant-tiers/index.js';
import { synthTenantManifests } from './manifests.js';
import { TENANT_ID_LABEL, TENANT_LABEL, TENANT_NODE_TAINT_EFFECT, TIER_LABEL } from './names.js';
import { admissionPolicy, all, manifestsFor, one, podSpecs, TENANT_ID, tenantInput } from './testing/fixtures.js';
import { validateKubeObjects } from './validate.js';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- the generated objects are inspected as free JSON */
type Json = any;

const CLUSTER_SCOPED = new Set(['Namespace', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
const dedicated = (tier: TierName): boolean => TIERS[tier].nodeGroup !== null;

/** Every container of a pod spec, init and ephemeral included. */
function containers(spec: Json): Json[] {
  return [...spec.containers, ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
}

interface Node {
  readonly labels: Record<string, string>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
}

/** The scheduler's placement predicates that matter here: nodeSelector, required node affinity (In), taints. */
function schedulable(spec: Json, node: Node): boolean {
  const selector = Object.entries((spec.nodeSelector ?? {}) as Record<string, string>).every(([k, v]) => node.labels[k] === v);
  const terms: Json[] = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const affinity = terms.length === 0 || terms.some((term) => (term.matchExpressions ?? []).every((e: Json) => {
    if (e.operator !== 'In') throw new Error(`operator ${e.operator} not simulated`);
    return node.labels[e.key] !== undefined && e.values.includes(node.labels[e.key]);
  }));
  const tolerated = node.taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute').every((taint) =>
    (spec.tolerations ?? []).some((t: Json) =>
      (t.effect === undefined || t.effect === taint.effect)
      && (t.operator === 'Exists' ? (t.key === undefined || t.key === taint.key) : t.key === taint.key && t.value === taint.value)));
  return selector && affinity && tolerated;
}

function dedicatedNode(tenantName: string): Node {
  return { labels: { [TENANT_NODE_LABEL_KEY]: tenantName }, taints: [{ key: TENANT_NODE_TAINT_KEY, value: tenantName, effect: TENANT_NODE_TAINT_EFFECT }] };
}
const SHARED_NODE: Node = { labels: { 'eks.amazonaws.com/nodegroup': 'shared' }, taints: [] };

describe.each(TIER_NAMES)('manifests of a %s tenant', (tier) => {
  const manifests = manifestsFor(tier);
  const spec = TIERS[tier];

  it('validate against the Kubernetes schemas, every object', () => {
    expect(manifests.objects.length).toBeGreaterThan(10);
    expect(() => validateKubeObjects(manifests.objects)).not.toThrow();
  });

  it('put every namespaced object in the tenant\'s namespace and label every object with the tenant', () => {
    for (const object of manifests.objects) {
      expect(object.metadata.namespace).toBe(CLUSTER_SCOPED.has(object.kind) ? undefined : `tenant-acme-${tier}`);
      expect(object.metadata.labels).toMatchObject({ [TENANT_LABEL]: `acme-${tier}`, [TENANT_ID_LABEL]: TENANT_ID, [TIER_LABEL]: tier });
    }
  });

  it('label the namespace with the tenant, the tier and Pod Security restricted (enforce, warn, audit)', () => {
    expect(one(manifests, 'Namespace').metadata).toMatchObject({
      name: `tenant-acme-${tier}`,
      labels: {
        [TENANT_LABEL]: `acme-${tier}`,
        [TIER_LABEL]: tier,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      },
    });
  });

  it('carry the tier\'s ResourceQuota, with zero LoadBalancers and NodePorts', () => {
    const q = spec.resourceQuota;
    expect((one(manifests, 'ResourceQuota') as Json).spec.hard).toEqual({
      'requests.cpu': q.requestsCpu,
      'requests.memory': q.requestsMemory,
      'limits.cpu': q.limitsCpu,
      'limits.memory': q.limitsMemory,
      pods: String(q.pods),
      services: String(q.services),
      persistentvolumeclaims: String(q.persistentVolumeClaims),
      'requests.storage': q.requestsStorage,
      'services.loadbalancers': '0',
      'services.nodeports': '0',
    });
  });

  it('carry the tier\'s LimitRange', () => {
    expect((one(manifests, 'LimitRange') as Json).spec.limits).toEqual([
      { type: 'Container', defaultRequest: spec.limitRange.defaultRequest, default: spec.limitRange.default, max: spec.limitRange.max },
    ]);
  });

  it('deny all ingress and egress by default', () => {
    const denies = all(manifests, 'NetworkPolicy').filter((p: Json) =>
      Object.keys(p.spec.podSelector).length === 0 && p.spec.ingress === undefined && p.spec.egress === undefined);
    expect(denies).toHaveLength(1);
    expect([...(denies[0] as Json).spec.policyTypes].sort()).toEqual(['Egress', 'Ingress']);
  });

  it('allow DNS to kube-dns only, ingress only from the namespace, and egress only to listed destinations', () => {
    const policies = all(manifests, 'NetworkPolicy') as Json[];
    expect((one(manifests, 'NetworkPolicy', 'allow-dns') as Json).spec.egress).toEqual([{
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    }]);
    for (const policy of policies) {
      for (const rule of policy.spec.ingress ?? []) {
        // A rule with no `from` admits every source; a namespaceSelector or ipBlock admits other tenants.
        expect(rule.from?.length).toBeGreaterThan(0);
        for (const peer of rule.from) expect(Object.keys(peer)).toEqual(['podSelector']);
      }
      for (const rule of policy.spec.egress ?? []) {
        expect(rule.to?.length).toBeGreaterThan(0);
        for (const peer of rule.to) expect(['0.0.0.0/0', '::/0']).not.toContain(peer.ipBlock?.cidr);
      }
    }
    expect((one(manifests, 'NetworkPolicy', 'allow-egress-aws-vpc-endpoints') as Json).spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });

  it('run no privileged, host-namespace, hostPath or hostPort pod, and every container restricted', () => {
    const specs = podSpecs(manifests) as Json[];
    expect(specs.length).toBeGreaterThan(0);
    for (const pod of specs) {
      expect(pod.hostNetwork ?? false).toBe(false);
      expect(pod.hostPID ?? false).toBe(false);
      expect(pod.hostIPC ?? false).toBe(false);
      expect((pod.volumes ?? []).filter((v: Json) => v.hostPath !== undefined)).toEqual([]);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of containers(pod)) {
        expect(c.securityContext).toMatchObject({
          privileged: false,
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(c.securityContext.capabilities.add).toBeUndefined();
        expect((c.ports ?? []).filter((p: Json) => p.hostPort !== undefined)).toEqual([]);
      }
    }
  });

  it('create no NodePort or LoadBalancer Service', () => {
    for (const service of all(manifests, 'Service') as Json[]) expect(['ClusterIP', undefined]).toContain(service.spec.type);
  });

  it('size the executor from the tier\'s LimitRange defaults', () => {
    const [pod] = podSpecs(manifests) as Json[];
    expect(pod.containers[0].resources).toEqual({ requests: spec.limitRange.defaultRequest, limits: spec.limitRange.default });
  });

  it('run the executor as its Pod Identity ServiceAccount, with no Kubernetes API token', () => {
    const [pod] = podSpecs(manifests) as Json[];
    expect(pod.serviceAccountName).toBe(DEFAULT_TENANT_SERVICE_ACCOUNT);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(one(manifests, 'ServiceAccount', DEFAULT_TENANT_SERVICE_ACCOUNT)).toMatchObject({ automountServiceAccountToken: false });
    expect(one(manifests, 'ServiceAccount', 'default')).toMatchObject({ automountServiceAccountToken: false });
  });

  it('give the tenant admin group a namespaced Role that cannot escalate', () => {
    const binding = one(manifests, 'RoleBinding') as Json;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: one(manifests, 'Role').metadata.name });
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `tenant-acme-${tier}-admins` }]);
    const rules = (one(manifests, 'Role') as Json).rules as Json[];
    for (const rule of rules) {
      expect(rule.apiGroups).not.toContain('*');
      expect(rule.apiGroups).not.toContain('rbac.authorization.k8s.io');
      expect(rule.resources).not.toContain('*');
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['*']));
      for (const verb of ['escalate', 'bind', 'impersonate']) expect(rule.verbs).not.toContain(verb);
      for (const resource of ['pods/exec', 'pods/attach', 'pods/ephemeralcontainers', 'serviceaccounts/token', 'namespaces']) expect(rule.resources).not.toContain(resource);
      if (rule.resources.includes('secrets')) expect(rule.verbs.filter((v: string) => v === 'list' || v === 'watch')).toEqual([]);
      if (['networkpolicies', 'resourcequotas', 'limitranges', 'poddisruptionbudgets'].some((r) => rule.resources.includes(r))) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
    }
    expect(all(manifests, 'ClusterRole')).toEqual([]);
    expect(all(manifests, 'ClusterRoleBinding')).toEqual([]);
  });

  it.each(['pods', 'services'] as const)('bind the %s admission policy to the tenant\'s namespace with Deny', (resource) => {
    const { policy, binding } = admissionPolicy(manifests, resource) as { policy: Json; binding: Json };
    expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConstraints.resourceRules[0].resources[0]).toBe(resource);
    expect(binding.spec).toEqual({
      policyName: policy.metadata.name,
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': `tenant-acme-${tier}` } } },
    });
  });

  it(dedicated(tier)
    ? 'pin the executor to the tenant\'s node group: nodeSelector, required affinity and toleration from the shared keys'
    : 'leave the executor on the shared nodes', () => {
    const [pod] = podSpecs(manifests) as Json[];
    if (dedicated(tier)) {
      expect(pod.nodeSelector).toEqual({ [TENANT_NODE_LABEL_KEY]: `acme-${tier}` });
      expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
        { matchExpressions: [{ key: TENANT_NODE_LABEL_KEY, operator: 'In', values: [`acme-${tier}`] }] },
      ]);
      expect(pod.tolerations).toEqual([{ key: TENANT_NODE_TAINT_KEY, operator: 'Equal', value: `acme-${tier}`, effect: TENANT_NODE_TAINT_EFFECT }]);
    } else {
      expect(pod.nodeSelector).toBeUndefined();
      expect(pod.affinity).toBeUndefined();
      expect(pod.tolerations).toBeUndefined();
    }
  });

  it(dedicated(tier) ? 'schedule the tenant\'s pods only on its own nodes' : 'schedule the tenant\'s pods only on shared nodes', () => {
    const [pod] = podSpecs(manifests) as Json[];
    expect({
      own: schedulable(pod, dedicatedNode(`acme-${tier}`)),
      otherTenant: schedulable(pod, dedicatedNode('globex')),
      shared: schedulable(pod, SHARED_NODE),
    }).toEqual(dedicated(tier) ? { own: true, otherTenant: false, shared: false } : { own: false, otherTenant: false, shared: true });
  });

  it('render the same objects every time', () => {
    expect(synthTenantManifests(tenantInput(tier)).objects).toEqual(manifests.objects);
  });
});

describe('TenantChart inputs', () => {
  it('renders one NetworkPolicy per egress endpoint given, with its ports', () => {
    const manifests = synthTenantManifests(tenantInput('pool', {
      egress: [
        { name: 'kinesis', cidrs: ['10.20.0.0/24', '10.20.1.0/24'], ports: [{ port: 443 }] },
        { name: 'statsd', cidrs: ['fd00:1::/64'], ports: [{ port: 8125, protocol: 'UDP' }] },
      ],
    }));
    const names = all(manifests, 'NetworkPolicy').map((p) => p.metadata.name).filter((n) => n.startsWith('allow-egress-'));
    expect(names).toEqual(['allow-egress-kinesis', 'allow-egress-statsd']);
    expect((one(manifests, 'NetworkPolicy', 'allow-egress-statsd') as Json).spec.egress).toEqual([
      { to: [{ ipBlock: { cidr: 'fd00:1::/64' } }], ports: [{ protocol: 'UDP', port: 8125 }] },
    ]);
  });

  it('renders no extra egress for an empty list, and keeps DNS and the Pod Identity agent', () => {
    const names = all(synthTenantManifests(tenantInput('pool', { egress: [] })), 'NetworkPolicy').map((p) => p.metadata.name);
    expect(names).toEqual(['default-deny', 'allow-dns', 'allow-same-namespace', 'allow-pod-identity-agent']);
  });

  it('annotates the ServiceAccount with the Pod Identity role and binds a custom admin group', () => {
    const manifests = synthTenantManifests(tenantInput('bridge', { podIdentityRoleArn: 'arn:aws:iam::123456789012:role/tenant-acme-bridge', adminGroup: 'acme-ops' }));
    expect(one(manifests, 'ServiceAccount', DEFAULT_TENANT_SERVICE_ACCOUNT).metadata).toMatchObject({
      annotations: { 'saas-kit/pod-identity-role-arn': 'arn:aws:iam::123456789012:role/tenant-acme-bridge' },
    });
    expect((one(manifests, 'RoleBinding') as Json).subjects[0].name).toBe('acme-ops');
  });
});
