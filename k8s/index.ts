// Public surface of k8s: re-exports only (convention 5). The node label and taint keys, the
// executor's ServiceAccount and the namespace name come from tenant-tiers, which the stack shares.
export { synthTenantManifests, layoutTenantManifests, writeTenantManifests, removeTenantManifests } from './manifests.js';
export type { TenantManifests } from './manifests.js';
export { validateKubeObjects, kubeObjectRef, VALIDATED_KINDS } from './validate.js';
export type { KubeObject } from './validate.js';
export { DEFAULT_EGRESS_ENDPOINTS } from './input.js';
export type { TenantManifestInput, EgressEndpoint, EgressPort } from './input.js';
export { TenantChart, TENANT_ADMIN_RULES, POD_SECURITY_LEVEL, tenantNodePlacement } from './tenant-chart.js';
export type { TenantChartProps } from './tenant-chart.js';
export { admissionRules, ADMISSION_VARIABLES, FORBIDDEN_VOLUME_TYPES, SERVICE_ADMISSION_RULES } from './admission-policy.js';
export type { AdmissionRule, AdmissionRuleOptions } from './admission-policy.js';
export {
  TENANT_LABEL,
  TENANT_ID_LABEL,
  TIER_LABEL,
  MANAGED_BY,
  TENANT_NODE_TAINT_EFFECT,
  EXECUTOR_NAME,
  tenantAdminGroup,
  tenantAdmissionPolicyNames,
  tenantManifestDirectory,
} from './names.js';
export { K8sError, TenantManifestInputError, KubeObjectValidationError, ManifestWriteError } from './errors.js';
