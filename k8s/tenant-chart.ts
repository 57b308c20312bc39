import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { k8s } from 'cdk8s-plus-27';
import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import type { IValidatingAdmissionPolicySpec } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicySpec';
import { admissionBindingSpec, podAdmissionPolicySpec, serviceAdmissionPolicySpec } from './admission-policy.js';
import { resolveTenantInput } from './input.js';
import type { ResolvedTenantInput, TenantManifestInput } from './input.js';
import { DEFAULT_TENANT_SERVICE_ACCOUNT, TENANT_NODE_LABEL_KEY, TENANT_NODE_TAINT_KEY } from '../tenant-tiers/index.js';
import { EXECUTOR_NAME, MANAGED_BY, TENANT_ID_LABEL, TENANT_LABEL, TENANT_NODE_TAINT_EFFECT, TIER_LABEL, tenantAdmissionPolicyNames } from './names.js';

/** Props of `TenantChart`: the tenant, exactly as the provisioning workflow passes it. */
export type TenantChartProps = TenantManifestInput;

/** Pod Security Admission level of every tenant namespace, enforced, warned and audited. */
export const POD_SECURITY_LEVEL = 'restricted';

/**
 * The tenant admin Role: manage workloads and their configuration in the namespace. No RBAC objects
 * (no escalation), no NetworkPolicy, quota, limit or PodDisruptionBudget writes (those are the
 * isolation), no listing or watching Secrets (list returns their contents), no exec, attach or
 * port-forward into pods, no ServiceAccount tokens.
 */
export const TENANT_ADMIN_RULES: readonly k8s.PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  { apiGroups: [''], resources: ['configmaps', 'services', 'persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['events', 'serviceaccounts', 'resourcequotas', 'limitranges'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  // Read-only: a budget that allows no disruption would stop the platform draining shared nodes.
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
];

/** The EKS Pod Identity agent, reached over the node's link-local address for credentials. */
const POD_IDENTITY_AGENT_CIDRS = ['169.254.170.23/32', 'fd00:ec2::23/128'];
const POD_IDENTITY_AGENT_PORT = 80;
/** UID and GID of the executor (the distroless `nonroot` user). */
const EXECUTOR_UID = 65532;

/**
 * Every Kubernetes object of one tenant, for every tier: the differences come from `TIERS[tier]`
 * only (quota, limits, and placement when the tier has a node group).
 */
export class TenantChart extends Chart {
  /** The validated input with defaults filled in. */
  public readonly tenant: ResolvedTenantInput;

  public constructor(scope: Construct, id: string, props: TenantChartProps) {
    const tenant = resolveTenantInput(props);
    super(scope, id, {
      disableResourceNameHashes: true,
      labels: {
        'app.kubernetes.io/managed-by': MANAGED_BY,
        [TENANT_LABEL]: tenant.tenantName,
        [TENANT_ID_LABEL]: tenant.tenantId,
        [TIER_LABEL]: tenant.tier,
      },
    });
    this.tenant = tenant;
    const { namespace, tierSpec } = tenant;
    const meta = (name: string): k8s.ObjectMeta => ({ name, namespace });

    new k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: namespace,
        labels: {
          'pod-security.kubernetes.io/enforce': POD_SECURITY_LEVEL,
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': POD_SECURITY_LEVEL,
          'pod-security.kubernetes.io/warn-version': 'latest',
          'pod-security.kubernetes.io/audit': POD_SECURITY_LEVEL,
          'pod-security.kubernetes.io/audit-version': 'latest',
        },
      },
    });

    const quota = tierSpec.resourceQuota;
    new k8s.KubeResourceQuota(this, 'quota', {
      metadata: meta('tenant-quota'),
      spec: {
        hard: {
          'requests.cpu': k8s.Quantity.fromString(quota.requestsCpu),
          'requests.memory': k8s.Quantity.fromString(quota.requestsMemory),
          'limits.cpu': k8s.Quantity.fromString(quota.limitsCpu),
          'limits.memory': k8s.Quantity.fromString(quota.limitsMemory),
          pods: k8s.Quantity.fromString(String(quota.pods)),
          services: k8s.Quantity.fromString(String(quota.services)),
          persistentvolumeclaims: k8s.Quantity.fromString(String(quota.persistentVolumeClaims)),
          'requests.storage': k8s.Quantity.fromString(quota.requestsStorage),
          'services.loadbalancers': k8s.Quantity.fromString(String(quota.servicesLoadBalancers)),
          'services.nodeports': k8s.Quantity.fromString(String(quota.servicesNodePorts)),
        },
      },
    });

    const limits = tierSpec.limitRange;
    const resources = (r: { readonly cpu: string; readonly memory: string }): Record<string, k8s.Quantity> => ({
      cpu: k8s.Quantity.fromString(r.cpu),
      memory: k8s.Quantity.fromString(r.memory),
    });
    new k8s.KubeLimitRange(this, 'limits', {
      metadata: meta('tenant-limits'),
      spec: {
        limits: [{ type: 'Container', defaultRequest: resources(limits.defaultRequest), default: resources(limits.default), max: resources(limits.max) }],
      },
    });

    this.networkPolicies(tenant, meta);

    new k8s.KubeServiceAccount(this, 'executor-sa', {
      metadata: {
        ...meta(DEFAULT_TENANT_SERVICE_ACCOUNT),
        ...(tenant.podIdentityRoleArn === null ? {} : { annotations: { 'saas-kit/pod-identity-role-arn': tenant.podIdentityRoleArn } }),
      },
      // Pod Identity injects its own projected token; the executor never calls the Kubernetes API.
      automountServiceAccountToken: false,
    });
    // Pods that name no ServiceAccount get `default`; without this they would carry an API token.
    new k8s.KubeServiceAccount(this, 'default-sa', { metadata: meta('default'), automountServiceAccountToken: false });

    new k8s.KubeRole(this, 'admin-role', { metadata: meta('tenant-admin'), rules: [...TENANT_ADMIN_RULES] });
    new k8s.KubeRoleBinding(this, 'admin-binding', {
      metadata: meta('tenant-admins'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: tenant.adminGroup }],
    });

    this.executor(tenant, meta);

    const policies = tenantAdmissionPolicyNames(tenant.tenantName);
    // Asked of the table: a tier with its own node group must keep its pods there.
    const ruleOptions = { tenantName: tenant.tenantName, dedicatedNodes: tierSpec.nodeGroup !== null };
    this.admissionPolicy('pods', policies.pods, podAdmissionPolicySpec(namespace, ruleOptions));
    this.admissionPolicy('services', policies.services, serviceAdmissionPolicySpec(namespace));
  }

  /** A ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, newer than cdk8s-plus-27's types) and its binding. */
  private admissionPolicy(id: string, name: string, spec: IValidatingAdmissionPolicySpec): void {
    new ApiObject(this, `${id}-admission-policy`, {
      apiVersion: ValidatingAdmissionPolicy.apiVersion,
      kind: ValidatingAdmissionPolicy.kind,
      metadata: { name },
      spec,
    });
    new ApiObject(this, `${id}-admission-binding`, {
      apiVersion: ValidatingAdmissionPolicyBinding.apiVersion,
      kind: ValidatingAdmissionPolicyBinding.kind,
      metadata: { name },
      spec: admissionBindingSpec(name, this.tenant.namespace),
    });
  }

  private networkPolicies(tenant: ResolvedTenantInput, meta: (name: string) => k8s.ObjectMeta): void {
    const everyPod: k8s.LabelSelector = {};
    new k8s.KubeNetworkPolicy(this, 'default-deny', {
      metadata: meta('default-deny'),
      spec: { podSelector: everyPod, policyTypes: ['Ingress', 'Egress'] },
    });
    new k8s.KubeNetworkPolicy(this, 'allow-dns', {
      metadata: meta('allow-dns'),
      spec: {
        podSelector: everyPod,
        policyTypes: ['Egress'],
        egress: [{
          to: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          }],
          ports: [
            { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
            { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
          ],
        }],
      },
    });
    new k8s.KubeNetworkPolicy(this, 'allow-same-namespace', {
      metadata: meta('allow-same-namespace'),
      spec: {
        podSelector: everyPod,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: everyPod }] }],
        egress: [{ to: [{ podSelector: everyPod }] }],
      },
    });
    new k8s.KubeNetworkPolicy(this, 'allow-pod-identity-agent', {
      metadata: meta('allow-pod-identity-agent'),
      spec: {
        podSelector: everyPod,
        policyTypes: ['Egress'],
        egress: [{
          to: POD_IDENTITY_AGENT_CIDRS.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(POD_IDENTITY_AGENT_PORT) }],
        }],
      },
    });
    for (const endpoint of tenant.egress) {
      new k8s.KubeNetworkPolicy(this, `allow-egress-${endpoint.name}`, {
        metadata: meta(`allow-egress-${endpoint.name}`),
        spec: {
          podSelector: everyPod,
          policyTypes: ['Egress'],
          egress: [{
            to: endpoint.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: endpoint.ports.map((p) => ({ protocol: p.protocol ?? 'TCP', port: k8s.IntOrString.fromNumber(p.port) })),
          }],
        },
      });
    }
  }

  private executor(tenant: ResolvedTenantInput, meta: (name: string) => k8s.ObjectMeta): void {
    const { tierSpec } = tenant;
    const selector = { 'app.kubernetes.io/name': EXECUTOR_NAME, [TENANT_LABEL]: tenant.tenantName };
    const quantities = (r: { readonly cpu: string; readonly memory: string }): Record<string, k8s.Quantity> => ({
      cpu: k8s.Quantity.fromString(r.cpu),
      memory: k8s.Quantity.fromString(r.memory),
    });
    // Asked of the table: a tier with its own node group pins the tenant's pods onto it.
    const placement: Partial<k8s.PodSpec> = tierSpec.nodeGroup === null ? {} : tenantNodePlacement(tenant.tenantName);
    new k8s.KubeDeployment(this, 'executor', {
      metadata: meta(EXECUTOR_NAME),
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...selector, [TIER_LABEL]: tenant.tier } },
          spec: {
            serviceAccountName: DEFAULT_TENANT_SERVICE_ACCOUNT,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: EXECUTOR_UID,
              runAsGroup: EXECUTOR_UID,
              fsGroup: EXECUTOR_UID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [{
              name: EXECUTOR_NAME,
              image: tenant.executorImage,
              env: [
                { name: 'TENANT_ID', value: tenant.tenantId },
                { name: 'TENANT_NAME', value: tenant.tenantName },
                { name: 'TENANT_TIER', value: tenant.tier },
              ],
              // The tier's LimitRange defaults: what a container of this tier gets when it asks nothing.
              resources: { requests: quantities(tierSpec.limitRange.defaultRequest), limits: quantities(tierSpec.limitRange.default) },
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              // The root filesystem is read-only; scratch space for jobs lives here.
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } }],
            ...placement,
          },
        },
      },
    });
  }
}

/** nodeSelector, required node affinity and toleration that pin a pod to the tenant's dedicated node group. */
export function tenantNodePlacement(tenantName: string): Pick<k8s.PodSpec, 'nodeSelector' | 'affinity' | 'tolerations'> {
  return {
    nodeSelector: { [TENANT_NODE_LABEL_KEY]: tenantName },
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: TENANT_NODE_LABEL_KEY, operator: 'In', values: [tenantName] }] }],
        },
      },
    },
    tolerations: [{ key: TENANT_NODE_TAINT_KEY, operator: 'Equal', value: tenantName, effect: TENANT_NODE_TAINT_EFFECT }],
  };
}
