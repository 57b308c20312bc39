/**
 * Names and keys of the tenant's Kubernetes objects.
 *
 * What the tenant stack must agree on (node label and taint keys, the executor's ServiceAccount,
 * the namespace name) comes from `tenant-tiers`, which owns the stack; this file holds the rest.
 */

/** Label on the tenant's namespace and on every object made for it: the tenant's name. */
export const TENANT_LABEL = 'saas-kit/tenant';
/** Label on the tenant's namespace and objects: the tenant's id (uuid). */
export const TENANT_ID_LABEL = 'saas-kit/tenant-id';
/** Label on the tenant's namespace and objects: its tier. */
export const TIER_LABEL = 'saas-kit/tier';
/** `app.kubernetes.io/managed-by` value on every object, so the kit can list what it applied. */
export const MANAGED_BY = 'saas-tenancy-kit';

/** Effect of the dedicated node group's taint (`TENANT_NODE_TAINT_KEY`), as Kubernetes spells it. */
export const TENANT_NODE_TAINT_EFFECT = 'NoSchedule';

/** Name of the job executor Deployment and its container. */
export const EXECUTOR_NAME = 'job-executor';


/** The group (EKS access entry or OIDC group) whose members administer the tenant's namespace. */
export function tenantAdminGroup(tenantName: string): string {
  return `tenant-${tenantName}-admins`;
}

/** Names of the tenant's cluster-scoped ValidatingAdmissionPolicies (each binding has its policy's name). */
export function tenantAdmissionPolicyNames(tenantName: string): { readonly pods: string; readonly services: string } {
  return { pods: `saas-kit-tenant-${tenantName}-pods`, services: `saas-kit-tenant-${tenantName}-services` };
}

/** Folder of the tenant's manifests, relative to the GitOps root. */
export function tenantManifestDirectory(tenantName: string): string {
  return `tenants/${tenantName}`;
}
