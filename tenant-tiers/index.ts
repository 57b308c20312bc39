// Public surface of tenant-tiers: re-exports only (convention 5).
export { TIERS, TIER_NAMES, ISOLATION_LEVELS, COMPLIANCE_REGIMES, COMPLIANCE_RATIONALE, isTierName, isCompliance, tierRank, compareTiers } from './tiers.js';
export type { TierName, TierSpec, Isolation, Compliance, ResourceQuotaSpec, LimitRangeSpec, ContainerResources, NodeGroupSpec } from './tiers.js';
export { PLANS, PLAN_NAMES, isPlanName, cheapestPlanAllowing } from './plans.js';
export type { PlanName, PlanSpec } from './plans.js';
export { chooseTier } from './policy.js';
export type { TierRequirements, TierRequest, TierPolicyContext, TierDecision } from './policy.js';
export { TenantTiersError, TierPolicyError } from './errors.js';
export type { TierPolicyErrorCode } from './errors.js';
export { TENANT_NAME_PATTERN, TENANT_NODE_LABEL_KEY, TENANT_NODE_TAINT_KEY, DEFAULT_TENANT_SERVICE_ACCOUNT, TENANT_STACK_OUTPUTS, PRODUCER_ROLE_PATH, DEFAULT_PROVISIONING_ROLE_NAME, tenantNamespaceName, tenantStackName, tenantClusterName, tenantNodegroupName, tenantStackOutputNames, runsOwnDataPlane } from './infra/naming.js';
export type { TenantStackOutputName } from './infra/naming.js';
export { TenantStackError, TenantStackInputError, TenantStackSynthesisError } from './infra/errors.js';
// The silo cluster endpoint's CIDRs are configuration too (bin/config.ts): checked by the same rule as the stack's.
export { validateControlPlaneCidrs } from './infra/validation.js';
