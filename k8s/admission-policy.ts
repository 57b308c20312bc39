/**
 * The CEL rules of the tenant's ValidatingAdmissionPolicies: what a pod (or Service) in the tenant's
 * namespace must satisfy to be admitted, whoever wrote its manifest.
 *
 * The expressions use portable CEL only (`has`, `all`, `exists`, `in`, ternaries), no Kubernetes
 * library function, so that the tests evaluate exactly these strings with a plain CEL engine.
 * `object` is the Pod; `variables.containers` is every container of it, init and ephemeral included.
 */
import type { IValidatingAdmissionPolicySpec } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicySpec';
import type { IValidatingAdmissionPolicyBindingSpec } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBindingSpec';
import { TENANT_NODE_LABEL_KEY, TENANT_NODE_TAINT_KEY } from '../tenant-tiers/index.js';
import { TENANT_NODE_TAINT_EFFECT } from './names.js';

/** One validation of the policy. */
export interface AdmissionRule {
  /** Stable id, the first word of the rejection message. */
  readonly id: string;
  /** CEL expression; true admits the pod. */
  readonly expression: string;
  /** What the pod author must change; Kubernetes returns it in the rejection. */
  readonly message: string;
}

/** What the rules depend on. */
export interface AdmissionRuleOptions {
  readonly tenantName: string;
  /** Whether the tenant's pods must run on its dedicated node group (the tier has one). */
  readonly dedicatedNodes: boolean;
}

/** Volume sources the restricted Pod Security profile does not allow. */
export const FORBIDDEN_VOLUME_TYPES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd',
  'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk',
  'portworxVolume', 'photonPersistentDisk', 'scaleIO', 'storageos',
] as const;

const ALLOWED_SECCOMP = "['RuntimeDefault', 'Localhost']";

/** `has(a.b) && has(a.b.c) ...` for a field path under `root`, so a missing parent is "unset", not an error. */
function isSet(root: string, path: string): string {
  const parts = path.split('.');
  return parts.map((_, i) => `has(${root}.${parts.slice(0, i + 1).join('.')})`).join(' && ');
}

/** A CEL string literal. JSON string escapes are valid CEL escapes. */
function literal(value: string): string {
  return JSON.stringify(value);
}

/** Variables the rules share, evaluated in order (a variable may use the ones before it). */
export const ADMISSION_VARIABLES: readonly { readonly name: string; readonly expression: string }[] = [
  {
    name: 'containers',
    expression:
      'object.spec.containers'
      + ' + (has(object.spec.initContainers) ? object.spec.initContainers : [])'
      + ' + (has(object.spec.ephemeralContainers) ? object.spec.ephemeralContainers : [])',
  },
];

/** The pod rules, in the order Kubernetes evaluates them. */
export function admissionRules(options: AdmissionRuleOptions): readonly AdmissionRule[] {
  const pod = 'object.spec';
  const podRunAsNonRoot = `(${isSet(pod, 'securityContext.runAsNonRoot')} && ${pod}.securityContext.runAsNonRoot == true)`;
  const podSeccompOk = `(${isSet(pod, 'securityContext.seccompProfile.type')} && ${pod}.securityContext.seccompProfile.type in ${ALLOWED_SECCOMP})`;
  const tenant = literal(options.tenantName);
  const taintKey = literal(TENANT_NODE_TAINT_KEY);
  const nodeLabel = literal(TENANT_NODE_LABEL_KEY);

  const rules: AdmissionRule[] = [
    {
      id: 'privileged',
      expression: `variables.containers.all(c, !(${isSet('c', 'securityContext.privileged')} && c.securityContext.privileged == true))`,
      message: 'privileged: no container may set securityContext.privileged to true',
    },
    {
      id: 'host-namespaces',
      expression: ['hostNetwork', 'hostPID', 'hostIPC'].map((field) => `!(${isSet(pod, field)} && ${pod}.${field} == true)`).join(' && '),
      message: 'host-namespaces: spec.hostNetwork, spec.hostPID and spec.hostIPC must be unset or false',
    },
    {
      id: 'host-ports',
      expression: `variables.containers.all(c, !has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))`,
      message: 'host-ports: no container port may set hostPort',
    },
    {
      id: 'volume-types',
      expression: `!has(${pod}.volumes) || ${pod}.volumes.all(v, ${FORBIDDEN_VOLUME_TYPES.map((type) => `!has(v.${type})`).join(' && ')})`,
      message: `volume-types: volumes must be configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret (not ${FORBIDDEN_VOLUME_TYPES.join(', ')})`,
    },
    {
      id: 'privilege-escalation',
      expression: `variables.containers.all(c, ${isSet('c', 'securityContext.allowPrivilegeEscalation')} && c.securityContext.allowPrivilegeEscalation == false)`,
      message: 'privilege-escalation: every container must set securityContext.allowPrivilegeEscalation to false',
    },
    {
      id: 'drop-all-capabilities',
      expression: `variables.containers.all(c, ${isSet('c', 'securityContext.capabilities.drop')} && 'ALL' in c.securityContext.capabilities.drop)`,
      message: 'drop-all-capabilities: every container must list ALL in securityContext.capabilities.drop',
    },
    {
      id: 'added-capabilities',
      expression: `variables.containers.all(c, !(${isSet('c', 'securityContext.capabilities.add')}) || c.securityContext.capabilities.add.all(a, a == 'NET_BIND_SERVICE'))`,
      message: 'added-capabilities: containers may add only NET_BIND_SERVICE to securityContext.capabilities.add',
    },
    {
      id: 'run-as-non-root',
      expression: `variables.containers.all(c, (${isSet('c', 'securityContext.runAsNonRoot')}) ? c.securityContext.runAsNonRoot == true : ${podRunAsNonRoot})`,
      message: 'run-as-non-root: set securityContext.runAsNonRoot to true on the pod or on every container, and false nowhere',
    },
    {
      id: 'run-as-user',
      expression: `!(${isSet(pod, 'securityContext.runAsUser')} && ${pod}.securityContext.runAsUser == 0) && variables.containers.all(c, !(${isSet('c', 'securityContext.runAsUser')} && c.securityContext.runAsUser == 0))`,
      message: 'run-as-user: securityContext.runAsUser must not be 0 (root) on the pod or any container',
    },
    {
      id: 'seccomp',
      expression:
        `(!(${isSet(pod, 'securityContext.seccompProfile')}) || ${podSeccompOk})`
        + ` && variables.containers.all(c, (${isSet('c', 'securityContext.seccompProfile')}) ? (has(c.securityContext.seccompProfile.type) && c.securityContext.seccompProfile.type in ${ALLOWED_SECCOMP}) : ${podSeccompOk})`,
      message: 'seccomp: securityContext.seccompProfile.type must be RuntimeDefault or Localhost, on the pod or on every container',
    },
    {
      id: 'proc-mount',
      expression: `variables.containers.all(c, !(${isSet('c', 'securityContext.procMount')}) || c.securityContext.procMount == 'Default')`,
      message: 'proc-mount: securityContext.procMount must be unset or Default',
    },
    {
      // A pod that tolerates another tenant's taint (or every taint) could land on that tenant's dedicated nodes.
      id: 'foreign-tolerations',
      expression:
        `!has(${pod}.tolerations) || ${pod}.tolerations.all(t, has(t.key) && t.key != ''`
        + ` && (t.key != ${taintKey} || ((!has(t.operator) || t.operator == 'Equal') && has(t.value) && t.value == ${tenant})))`,
      message: `foreign-tolerations: every toleration must name a key, and a toleration of ${TENANT_NODE_TAINT_KEY} must be Equal to ${options.tenantName}`,
    },
    {
      // spec.nodeName skips the scheduler, and with it every NoSchedule taint. The scheduler binds
      // through pods/binding, so only a pod created with nodeName set is refused.
      id: 'node-name',
      expression: `request.operation != 'CREATE' || !has(${pod}.nodeName) || ${pod}.nodeName == ''`,
      message: 'node-name: spec.nodeName may not be set; the scheduler places tenant pods',
    },
  ];
  if (options.dedicatedNodes) {
    rules.push({
      id: 'dedicated-placement',
      expression:
        `has(${pod}.nodeSelector) && ${nodeLabel} in ${pod}.nodeSelector && ${pod}.nodeSelector[${nodeLabel}] == ${tenant}`
        + ` && has(${pod}.tolerations) && ${pod}.tolerations.exists(t, has(t.key) && t.key == ${taintKey} && has(t.value) && t.value == ${tenant}`
        + ` && has(t.effect) && t.effect == ${literal(TENANT_NODE_TAINT_EFFECT)})`,
      message: `dedicated-placement: pods must set nodeSelector ${TENANT_NODE_LABEL_KEY}: ${options.tenantName} and tolerate ${TENANT_NODE_TAINT_KEY}=${options.tenantName}:${TENANT_NODE_TAINT_EFFECT}`,
    });
  }
  return rules;
}

/**
 * The rules for the tenant's Services. The quota already refuses NodePort and LoadBalancer; these
 * close what a quota cannot count: `externalIPs`, which lets a Service capture traffic meant for
 * any address in the cluster (CVE-2020-8554), and ExternalName, which ingress controllers follow.
 */
export const SERVICE_ADMISSION_RULES: readonly AdmissionRule[] = [
  {
    id: 'service-type',
    expression: "!has(object.spec.type) || object.spec.type == 'ClusterIP'",
    message: 'service-type: Services must be ClusterIP (no NodePort, LoadBalancer or ExternalName); traffic enters through the shared ingress',
  },
  {
    id: 'service-external-ips',
    expression: '!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0',
    message: 'service-external-ips: spec.externalIPs may not be set',
  },
];

function policySpec(
  namespace: string,
  resources: readonly string[],
  variables: readonly { readonly name: string; readonly expression: string }[],
  rules: readonly AdmissionRule[],
): IValidatingAdmissionPolicySpec {
  return {
    failurePolicy: 'Fail',
    matchConstraints: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: [...resources] }],
    },
    ...(variables.length === 0 ? {} : { variables: variables.map((variable) => ({ ...variable })) }),
    validations: rules.map((rule) => ({ expression: rule.expression, message: rule.message, reason: 'Forbidden' })),
  };
}

/** The pod policy's spec: pods (and ephemeral container additions) in `namespace`, every rule, Deny on failure. */
export function podAdmissionPolicySpec(namespace: string, options: AdmissionRuleOptions): IValidatingAdmissionPolicySpec {
  return policySpec(namespace, ['pods', 'pods/ephemeralcontainers'], ADMISSION_VARIABLES, admissionRules(options));
}

/** The service policy's spec: Services in `namespace`. */
export function serviceAdmissionPolicySpec(namespace: string): IValidatingAdmissionPolicySpec {
  return policySpec(namespace, ['services'], [], SERVICE_ADMISSION_RULES);
}

/** The binding's spec: the policy, enforced (Deny) in the tenant's namespace only. */
export function admissionBindingSpec(policyName: string, namespace: string): IValidatingAdmissionPolicyBindingSpec {
  return {
    policyName,
    validationActions: ['Deny'],
    matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
  };
}
