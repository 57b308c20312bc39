/** Test-only fixtures shared by the k8s tests. */
import type { TierName } from '../../tenant-tiers/index.js';
import { synthTenantManifests } from '../manifests.js';
import type { TenantManifests } from '../manifests.js';
import type { TenantManifestInput } from '../input.js';
import { tenantAdmissionPolicyNames } from '../names.js';
import type { KubeObject } from '../validate.js';

export const TENANT_ID = '7d3c1a5e-0b1f-4f51-9f0e-1c2d3e4f5a6b';
export const EXECUTOR_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/saas-kit/executor:1.4.2';

export function tenantInput(tier: TierName, overrides: Partial<TenantManifestInput> = {}): TenantManifestInput {
  return { tenantId: TENANT_ID, tenantName: `acme-${tier}`, tier, executorImage: EXECUTOR_IMAGE, ...overrides };
}

const cache = new Map<TierName, TenantManifests>();

/** The manifests of `acme-<tier>`, synthesized once per test file. */
export function manifestsFor(tier: TierName): TenantManifests {
  let manifests = cache.get(tier);
  if (manifests === undefined) {
    manifests = synthTenantManifests(tenantInput(tier));
    cache.set(tier, manifests);
  }
  return manifests;
}

/** The only object of `kind` (and `name`, when given); fails when there is not exactly one. */
export function one(manifests: TenantManifests, kind: string, name?: string): KubeObject {
  const found = manifests.objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`);
  return found[0];
}

/** The ValidatingAdmissionPolicy for `resource` and its binding. */
export function admissionPolicy(manifests: TenantManifests, resource: 'pods' | 'services'): { readonly policy: KubeObject; readonly binding: KubeObject } {
  const name = tenantAdmissionPolicyNames(manifests.tenantName)[resource];
  return { policy: one(manifests, 'ValidatingAdmissionPolicy', name), binding: one(manifests, 'ValidatingAdmissionPolicyBinding', name) };
}

export function all(manifests: TenantManifests, kind: string): KubeObject[] {
  return manifests.objects.filter((o) => o.kind === kind);
}

/** Pod specs of every workload in the manifests (every object with a pod template). */
export function podSpecs(manifests: TenantManifests): Record<string, unknown>[] {
  return manifests.objects.flatMap((o) => {
    const template = (o.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template;
    return template?.spec === undefined ? [] : [template.spec];
  });
}

/**
 * A Pod of the executor Deployment as it reaches validating admission: the template, plus what the
 * API server's mutating admission adds (DefaultTolerationSeconds) and the EKS Pod Identity webhook's
 * token volume and environment.
 */
export function executorPod(manifests: TenantManifests): KubeObject {
  const deployment = one(manifests, 'Deployment');
  const template = structuredClone((deployment.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } }).template);
  const spec = template.spec as {
    tolerations?: Record<string, unknown>[];
    volumes: Record<string, unknown>[];
    containers: { env?: Record<string, unknown>[]; volumeMounts?: Record<string, unknown>[] }[];
  };
  spec.tolerations = [
    ...(spec.tolerations ?? []),
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
  spec.volumes.push({
    name: 'eks-pod-identity-token',
    projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: 86400, path: 'eks-pod-identity-token' } }] },
  });
  for (const container of spec.containers) {
    container.env = [...(container.env ?? []), { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://169.254.170.23/v1/credentials' }];
    container.volumeMounts = [...(container.volumeMounts ?? []), { name: 'eks-pod-identity-token', mountPath: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount', readOnly: true }];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'job-executor-7c9d8f6b5-x2k4q', namespace: manifests.namespace, labels: template.metadata.labels },
    spec,
  };
}
