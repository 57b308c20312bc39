/**
 * Names the tenant stack shares with the Kubernetes charts and the provisioning workflow. They are
 * part of the contract: the charts select nodes by these keys, the workflow reads these outputs.
 */
import { TIERS, type TierName } from '../tiers.js';

/** Node label key of a tenant's dedicated nodes; the value is the tenant's name. */
export const TENANT_NODE_LABEL_KEY = 'saas-kit/tenant';

/** Taint key (effect NoSchedule) of a tenant's dedicated nodes in a shared cluster; the value is the tenant's name. */
export const TENANT_NODE_TAINT_KEY = 'saas-kit/tenant';

/** Kubernetes ServiceAccount of the tenant's workloads that the Pod Identity association binds. */
export const DEFAULT_TENANT_SERVICE_ACCOUNT = 'job-executor';

/** Tenant names the stacks accept: the control plane's rule (3-40 characters, a DNS label). */
export const TENANT_NAME_PATTERN = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

/** The tenant's Kubernetes namespace. */
export function tenantNamespaceName(tenantName: string): string {
  return `tenant-${tenantName}`;
}

/** The tenant's CloudFormation stack (one per tenant). */
export function tenantStackName(tenantName: string): string {
  return `saas-kit-tenant-${tenantName}`;
}

/**
 * The EKS cluster of a tenant with a cluster of its own (tiers isolated by account). Deterministic, so
 * the control plane finds the cluster from the tenant's name alone: at most 56 characters of a-z, 0-9
 * and -, within EKS's 100 and its charset `[0-9A-Za-z][A-Za-z0-9_-]*` for every name TENANT_NAME_PATTERN accepts.
 */
export function tenantClusterName(tenantName: string): string {
  return `saas-kit-tenant-${tenantName}`;
}

/**
 * The role the control plane assumes in a tenant's own account: the one Organizations creates in every
 * account it makes. It deploys the tenant stack (CloudFormation) and applies the tenant's objects to its
 * cluster (an EKS access entry of the stack admits it).
 */
export const DEFAULT_PROVISIONING_ROLE_NAME = 'OrganizationAccountAccessRole';

/** The tenant's dedicated managed node group. */
export function tenantNodegroupName(tenantName: string): string {
  return `tenant-${tenantName}`;
}

/** IAM path of silo producer roles; the central stream's policy may admit every role under it. */
export const PRODUCER_ROLE_PATH = '/saas-kit/producers/';

/** Names of the tenant stack's CloudFormation outputs, which the provisioning workflow reads. */
export const TENANT_STACK_OUTPUTS = {
  /** ARN of the tenant's workload role (Pod Identity). Every tier. */
  roleArn: 'TenantRoleArn',
  /** Name of the tenant's dedicated node group. Tiers with a node group. */
  nodegroupName: 'TenantNodegroupName',
  /** Name of the tenant's own EKS cluster. Tiers in their own account. */
  clusterName: 'TenantClusterName',
  /** Name of the tenant's own data bucket. Tiers in their own account. */
  bucketName: 'TenantBucketName',
  /** ARN of the role that writes to the central event stream from the tenant's account. Tiers in their own account. */
  producerRoleArn: 'TenantProducerRoleArn',
} as const;

/** One of `TENANT_STACK_OUTPUTS`. */
export type TenantStackOutputName = (typeof TENANT_STACK_OUTPUTS)[keyof typeof TENANT_STACK_OUTPUTS];

/** Whether the tier's tenant gets its own account, cluster and bucket (else it shares the platform's). */
export function runsOwnDataPlane(tier: TierName): boolean {
  return TIERS[tier].isolation === 'account';
}

/** The outputs a tenant stack of `tier` has, in a stable order. */
export function tenantStackOutputNames(tier: TierName): TenantStackOutputName[] {
  const names: TenantStackOutputName[] = [TENANT_STACK_OUTPUTS.roleArn];
  if (TIERS[tier].nodeGroup !== null) names.push(TENANT_STACK_OUTPUTS.nodegroupName);
  if (runsOwnDataPlane(tier)) {
    names.push(TENANT_STACK_OUTPUTS.clusterName, TENANT_STACK_OUTPUTS.bucketName, TENANT_STACK_OUTPUTS.producerRoleArn);
  }
  return names;
}
