import { describe, expect, it } from 'vitest';
import { TENANT_NODE_LABEL_KEY, TENANT_NODE_TAINT_KEY, TIERS, TIER_NAMES } from '../tenant-tiers/index.js';
import type { TierName } from '../tenant-tiers/index.js';
import { admissionRules, SERVICE_ADMISSION_RULES } from './admission-policy.js';
import { admit } from './testing/admission.js';
import type { AdmissionAttempt } from './testing/admission.js';
import { admissionPolicy, executorPod, manifestsFor, one } from './testing/fixtures.js';
import type { KubeObject } from './validate.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- pod specs are mutated as free JSON */
type PodSpec = any;

interface Case {
  readonly name: string;
  readonly mutate: (spec: PodSpec, tenantName: string) => void;
  /** Ids of the rules that must reject the pod, and no others. */
  readonly rejectedBy: readonly string[];
  readonly operation?: 'CREATE' | 'UPDATE';
  readonly subResource?: string;
  /** Only for tiers whose pods must run on a dedicated node group. */
  readonly dedicatedOnly?: boolean;
}

const main = (spec: PodSpec): PodSpec => spec.containers[0];
const compliantContainer = (name: string): Record<string, unknown> => ({
  name,
  image: 'busybox:1.36',
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
});

const REJECTED: readonly Case[] = [
  { name: 'a privileged container', mutate: (s) => { main(s).securityContext.privileged = true; }, rejectedBy: ['privileged'] },
  { name: 'hostNetwork', mutate: (s) => { s.hostNetwork = true; }, rejectedBy: ['host-namespaces'] },
  { name: 'hostPID', mutate: (s) => { s.hostPID = true; }, rejectedBy: ['host-namespaces'] },
  { name: 'hostIPC', mutate: (s) => { s.hostIPC = true; }, rejectedBy: ['host-namespaces'] },
  { name: 'a hostPort', mutate: (s) => { main(s).ports = [{ containerPort: 8080, hostPort: 8080 }]; }, rejectedBy: ['host-ports'] },
  { name: 'a hostPath volume', mutate: (s) => { s.volumes.push({ name: 'host', hostPath: { path: '/var/run/docker.sock' } }); }, rejectedBy: ['volume-types'] },
  { name: 'an nfs volume', mutate: (s) => { s.volumes.push({ name: 'share', nfs: { server: '10.0.0.5', path: '/' } }); }, rejectedBy: ['volume-types'] },
  { name: 'an added capability', mutate: (s) => { main(s).securityContext.capabilities.add = ['SYS_ADMIN']; }, rejectedBy: ['added-capabilities'] },
  { name: 'capabilities not dropping ALL', mutate: (s) => { main(s).securityContext.capabilities.drop = ['NET_RAW']; }, rejectedBy: ['drop-all-capabilities'] },
  { name: 'no capabilities at all', mutate: (s) => { delete main(s).securityContext.capabilities; }, rejectedBy: ['drop-all-capabilities'] },
  { name: 'allowPrivilegeEscalation true', mutate: (s) => { main(s).securityContext.allowPrivilegeEscalation = true; }, rejectedBy: ['privilege-escalation'] },
  { name: 'allowPrivilegeEscalation unset', mutate: (s) => { delete main(s).securityContext.allowPrivilegeEscalation; }, rejectedBy: ['privilege-escalation'] },
  { name: 'a container with runAsNonRoot false', mutate: (s) => { main(s).securityContext.runAsNonRoot = false; }, rejectedBy: ['run-as-non-root'] },
  {
    name: 'runAsNonRoot set nowhere',
    mutate: (s) => { delete s.securityContext.runAsNonRoot; delete main(s).securityContext.runAsNonRoot; },
    rejectedBy: ['run-as-non-root'],
  },
  { name: 'runAsUser 0 on the pod', mutate: (s) => { s.securityContext.runAsUser = 0; }, rejectedBy: ['run-as-user'] },
  { name: 'runAsUser 0 on a container', mutate: (s) => { main(s).securityContext.runAsUser = 0; }, rejectedBy: ['run-as-user'] },
  {
    name: 'no seccomp profile',
    mutate: (s) => { delete s.securityContext.seccompProfile; delete main(s).securityContext.seccompProfile; },
    rejectedBy: ['seccomp'],
  },
  { name: 'an Unconfined container seccomp profile', mutate: (s) => { main(s).securityContext.seccompProfile = { type: 'Unconfined' }; }, rejectedBy: ['seccomp'] },
  { name: 'an Unconfined pod seccomp profile', mutate: (s) => { s.securityContext.seccompProfile = { type: 'Unconfined' }; }, rejectedBy: ['seccomp'] },
  { name: 'an Unmasked procMount', mutate: (s) => { main(s).securityContext.procMount = 'Unmasked'; }, rejectedBy: ['proc-mount'] },
  {
    name: 'a violation only in an initContainer (privileged)',
    mutate: (s) => { s.initContainers = [{ ...compliantContainer('init'), securityContext: { ...compliantContainer('x').securityContext as object, privileged: true } }]; },
    rejectedBy: ['privileged'],
  },
  {
    name: 'a violation only in an initContainer (root)',
    mutate: (s) => { s.initContainers = [{ ...compliantContainer('init'), securityContext: { ...compliantContainer('x').securityContext as object, runAsNonRoot: false } }]; },
    rejectedBy: ['run-as-non-root'],
  },
  {
    name: 'an ephemeral debug container adding SYS_PTRACE (pods/ephemeralcontainers)',
    mutate: (s) => {
      const debug = compliantContainer('debugger') as any;
      debug.securityContext.capabilities.add = ['SYS_PTRACE'];
      s.ephemeralContainers = [debug];
      s.nodeName = 'ip-10-0-1-23.ec2.internal';
    },
    operation: 'UPDATE',
    subResource: 'ephemeralcontainers',
    rejectedBy: ['added-capabilities'],
  },
  {
    // runAsNonRoot and seccomp fall back to the pod's; the two container-only settings do not.
    name: 'an ephemeral container with no securityContext',
    mutate: (s) => { s.ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36' }]; },
    rejectedBy: ['privilege-escalation', 'drop-all-capabilities'],
  },
  {
    name: 'a toleration of another tenant\'s nodes',
    mutate: (s) => { s.tolerations.push({ key: TENANT_NODE_TAINT_KEY, operator: 'Equal', value: 'globex', effect: 'NoSchedule' }); },
    rejectedBy: ['foreign-tolerations'],
  },
  { name: 'a toleration of every taint', mutate: (s) => { s.tolerations.push({ operator: 'Exists' }); }, rejectedBy: ['foreign-tolerations'] },
  {
    name: 'a toleration of every tenant\'s taint',
    mutate: (s) => { s.tolerations.push({ key: TENANT_NODE_TAINT_KEY, operator: 'Exists', effect: 'NoSchedule' }); },
    rejectedBy: ['foreign-tolerations'],
  },
  { name: 'spec.nodeName set at creation', mutate: (s) => { s.nodeName = 'ip-10-0-1-23.ec2.internal'; }, rejectedBy: ['node-name'] },
  { name: 'no nodeSelector', mutate: (s) => { delete s.nodeSelector; }, rejectedBy: ['dedicated-placement'], dedicatedOnly: true },
  {
    name: 'another tenant\'s nodeSelector',
    mutate: (s) => { s.nodeSelector = { [TENANT_NODE_LABEL_KEY]: 'globex' }; },
    rejectedBy: ['dedicated-placement'],
    dedicatedOnly: true,
  },
  {
    name: 'no toleration of its own node group',
    mutate: (s) => { s.tolerations = s.tolerations.filter((t: { key: string }) => t.key !== TENANT_NODE_TAINT_KEY); },
    rejectedBy: ['dedicated-placement'],
    dedicatedOnly: true,
  },
];

const dedicated = (tier: TierName): boolean => TIERS[tier].nodeGroup !== null;

function attempt(tier: TierName, spec: PodSpec, overrides: Partial<AdmissionAttempt> = {}): AdmissionAttempt {
  const manifests = manifestsFor(tier);
  const pod = executorPod(manifests);
  return { operation: 'CREATE', object: { ...pod, spec }, namespace: one(manifests, 'Namespace'), ...overrides };
}

function decide(tier: TierName, at: AdmissionAttempt): { allowed: boolean; ids: string[]; matched: boolean } {
  const { policy, binding } = admissionPolicy(manifestsFor(tier), at.object.kind === 'Service' ? 'services' : 'pods');
  const outcome = admit(policy, binding, at);
  return { allowed: outcome.allowed, matched: outcome.matched, ids: outcome.messages.map((m) => m.split(':')[0]) };
}

function executorSpec(tier: TierName): PodSpec {
  return structuredClone(executorPod(manifestsFor(tier)).spec);
}

describe.each(TIER_NAMES)('admission policy of a %s tenant (CEL evaluated)', (tier) => {
  it('admits the chart\'s own executor pod, as mutated by the API server', () => {
    expect(decide(tier, attempt(tier, executorSpec(tier)))).toEqual({ allowed: true, matched: true, ids: [] });
  });

  it('admits a tenant-written pod that sets runAsNonRoot and seccomp on the pod only and adds NET_BIND_SERVICE', () => {
    const container = compliantContainer('web') as any;
    delete container.securityContext.runAsNonRoot;
    delete container.securityContext.seccompProfile;
    container.securityContext.capabilities.add = ['NET_BIND_SERVICE'];
    const executor = executorSpec(tier);
    const spec = {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [container],
      volumes: [{ name: 'cache', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      ...(dedicated(tier) ? { nodeSelector: executor.nodeSelector, tolerations: executor.tolerations } : {}),
    };
    expect(decide(tier, attempt(tier, spec))).toMatchObject({ allowed: true, ids: [] });
  });

  it('admits an update of a scheduled pod (nodeName set by the scheduler)', () => {
    const spec = { ...executorSpec(tier), nodeName: 'ip-10-0-1-23.ec2.internal' };
    expect(decide(tier, attempt(tier, spec, { operation: 'UPDATE' }))).toMatchObject({ allowed: true, ids: [] });
  });

  it('does not apply outside the tenant\'s namespace', () => {
    const spec = executorSpec(tier);
    spec.hostNetwork = true;
    const other: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-globex', labels: { 'kubernetes.io/metadata.name': 'tenant-globex' } } };
    const pod = { ...executorPod(manifestsFor(tier)), spec };
    const outcome = decide(tier, { operation: 'CREATE', object: { ...pod, metadata: { ...pod.metadata, namespace: 'tenant-globex' } }, namespace: other });
    expect(outcome.matched).toBe(false);
  });

  const cases = REJECTED.filter((c) => !c.dedicatedOnly || dedicated(tier));
  it.each(cases)('rejects $name', (c) => {
    const spec = executorSpec(tier);
    c.mutate(spec, manifestsFor(tier).tenantName);
    const outcome = decide(tier, attempt(tier, spec, {
      operation: c.operation ?? 'CREATE',
      ...(c.subResource === undefined ? {} : { subResource: c.subResource }),
    }));
    expect(outcome.allowed).toBe(false);
    expect(outcome.ids.sort()).toEqual([...c.rejectedBy].sort());
  });

  it('has a rejecting case for every shipped rule', () => {
    const shipped = admissionRules({ tenantName: manifestsFor(tier).tenantName, dedicatedNodes: dedicated(tier) }).map((r) => r.id);
    const { policy } = admissionPolicy(manifestsFor(tier), 'pods');
    expect((policy.spec as { validations: unknown[] }).validations).toHaveLength(shipped.length);
    expect(new Set(cases.flatMap((c) => c.rejectedBy))).toEqual(new Set(shipped));
  });
});

describe('admission policy of a tier without a node group', () => {
  const shared = TIER_NAMES.filter((tier) => !dedicated(tier));
  it.each(shared)('%s: rejects a pod that targets another tenant\'s dedicated nodes', (tier) => {
    const spec = executorSpec(tier);
    spec.nodeSelector = { [TENANT_NODE_LABEL_KEY]: 'globex' };
    spec.tolerations.push({ key: TENANT_NODE_TAINT_KEY, operator: 'Equal', value: 'globex', effect: 'NoSchedule' });
    expect(decide(tier, attempt(tier, spec)).ids).toEqual(['foreign-tolerations']);
  });
});

describe.each(TIER_NAMES)('service admission policy of a %s tenant (CEL evaluated)', (tier) => {
  const service = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'api', namespace: manifestsFor(tier).namespace },
    spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
  });
  const namespace = (): KubeObject => one(manifestsFor(tier), 'Namespace');

  it.each([{}, { type: 'ClusterIP' }, { clusterIP: 'None' }])('admits a ClusterIP Service %j', (spec) => {
    expect(decide(tier, { operation: 'CREATE', object: service(spec), namespace: namespace() })).toEqual({ allowed: true, matched: true, ids: [] });
  });

  it.each([
    [{ type: 'NodePort' }, 'service-type'],
    [{ type: 'LoadBalancer' }, 'service-type'],
    [{ type: 'ExternalName', externalName: 'api.tenant-globex.svc.cluster.local' }, 'service-type'],
    [{ externalIPs: ['10.0.12.7'] }, 'service-external-ips'],
  ])('rejects a Service %j', (spec, id) => {
    const outcome = decide(tier, { operation: 'CREATE', object: service(spec), namespace: namespace() });
    expect(outcome).toEqual({ allowed: false, matched: true, ids: [id] });
  });

  it('ships exactly the service rules', () => {
    const { policy } = admissionPolicy(manifestsFor(tier), 'services');
    expect((policy.spec as { validations: { expression: string }[] }).validations.map((v) => v.expression)).toEqual(SERVICE_ADMISSION_RULES.map((r) => r.expression));
  });
});
