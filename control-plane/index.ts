export { authenticate } from './auth/authenticate.js';
export { ROLES, type Principal, type Role } from './auth/principal.js';
export { createTokenVerifier, principalFromClaims, type TokenVerifier, type TokenVerifierOptions } from './auth/token-verifier.js';
export { Database, TENANT_SCOPE_ROLE, TENANT_SETTING, type DatabaseOptions, type Dialect } from './db/database.js';
export * from './errors.js';
export { createApp, type TenantManagerDeps } from './tenant-manager/app.js';
export { TenantService, type TenantServiceOptions } from './tenant-manager/tenant-service.js';
export { DEFAULT_IDEMPOTENCY_KEY_RETENTION_MS, IdempotencyKeySettingsError, IdempotencyKeySweeper, type IdempotencyKeySweeperProps } from './tenant-manager/idempotency-keys.js';
export { OutboxRelay, OutboxRelayError, type OutboxRelayProps, type RelayRound } from './outbox-relay/outbox-relay.js';
export { createJobManagerApp, JOB_MANAGER_EVENT_SOURCE, type JobManagerDeps } from './job-manager/app.js';
export { JobService, type TenantInfo, type TenantLookup } from './job-manager/job-service.js';
export { activeTenants, tenantLookupFromDatabase } from './job-manager/tenant-lookup.js';
export { startProvisioningWorkers, type ProvisioningWorkers } from './provisioning/workers.js';
export { WorkflowEngine } from './provisioning/engine.js';
export { ProvisioningService, type ProvisioningServiceOptions } from './provisioning/service.js';
export { reconcile, tenantAccountId, type DriftItem, type ReconcileReport } from './provisioning/reconciler.js';
export type { ProvisioningDeps, RenderManifests, SynthesizeStack, SynthesizedStack, TenantStackRequest, ValidateManifests, WorkerOptions } from './provisioning/options.js';
export type { WorkflowView } from './provisioning/workflows.js';
export * from './provisioning/errors.js';
export type * from './provisioning/providers.js';
export {
  createLocalProviders,
  LocalKubernetes,
  LocalOrganizations,
  LocalStackDeployer,
  type CreateAccountFailureReason,
  type LocalKubernetesProps,
  type LocalOrganizationsProps,
  type LocalProvidersProps,
  type LocalStackDeployerProps,
} from './provisioning/providers/local/index.js';
export * from './provisioning/providers/aws/index.js';
export { k8sManifests, type K8sManifestOptions } from './provisioning/k8s-manifests.js';
