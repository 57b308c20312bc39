/**
 * The seams of tier provisioning: every outside system the workflow touches, as an interface.
 *
 * Each has an AWS implementation (`providers/aws/`, SDK v3 clients passed in, tested on exact
 * requests) and a local one (`providers/local/`) that `npm start` uses where no local server exists.
 * Every method is idempotent: the workflow calls it again after a crash or a retry, and a second
 * call must find and reuse what the first made, never make a second copy.
 */
import type { TierName } from '../../tenant-tiers/index.js';

/** What every provider knows of the tenant it works on. */
export interface TenantRef {
  /** The tenant's id (uuid); tagged onto everything made for it. */
  readonly tenantId: string;
  /** The tenant's name, `[a-z0-9-]`, unique; names resources (namespace, stack, group). */
  readonly tenantName: string;
  readonly tier: TierName;
}

/** The outcome of a long-running outside operation the workflow polls. */
export type OperationStatus<T> =
  | { readonly state: 'IN_PROGRESS' }
  | { readonly state: 'SUCCEEDED'; readonly result: T }
  | { readonly state: 'FAILED'; readonly reason: string };

// ---------------------------------------------------------------- identity (Cognito)

export interface TenantIdentity {
  /** The tenant's Cognito group. */
  readonly groupName: string;
  /** The tenant admin's Cognito username (its `sub`-independent login name). */
  readonly adminUsername: string;
}

export interface IdentityProvider {
  /** Creates, or finds, the tenant's group and its admin user carrying `custom:tenant_id`, in the group. */
  ensureTenantIdentity(tenant: TenantRef, admin: { readonly email: string }): Promise<TenantIdentity>;
  /** Whether the group exists (for the reconciler). */
  tenantIdentityExists(tenant: TenantRef): Promise<boolean>;
  /** Deletes the tenant's users and group; nothing to delete is success. */
  removeTenantIdentity(tenant: TenantRef): Promise<void>;
}

// ---------------------------------------------------------------- accounts (Organizations, silo)

export interface AccountRequest {
  /** The account's root email; unique across AWS. */
  readonly email: string;
  readonly accountName: string;
  readonly tenant: TenantRef;
}

export interface AccountProvider {
  /**
   * Starts CreateAccount and returns its request id. Organizations has no idempotency token: when
   * the email already belongs to an account of this organization (a retry after a crash), the
   * provider returns `{ existingAccountId }` instead of starting a second creation.
   */
  startAccountCreation(request: AccountRequest): Promise<{ readonly requestId: string } | { readonly existingAccountId: string }>;
  /**
   * Looks for a creation of the request's account started earlier, the way `startAccountCreation` does,
   * and starts none: the account with the request's email when it exists and is not closing or closed, else
   * the creation still in flight; undefined when there is neither (never started, failed, or already
   * closed). Offboarding settles with it a creation whose request id was never recorded.
   */
  findAccountCreation(request: AccountRequest): Promise<{ readonly requestId: string } | { readonly existingAccountId: string } | undefined>;
  /** DescribeCreateAccountStatus: IN_PROGRESS, SUCCEEDED with the account id, or FAILED with Organizations' reason (e.g. EMAIL_ALREADY_EXISTS). */
  accountCreationStatus(requestId: string): Promise<OperationStatus<{ readonly accountId: string }>>;
  /** Moves the account into the tenants OU; an account already there is success. */
  moveToTenantsOu(accountId: string): Promise<void>;
  /** CloseAccount; an account already closed or suspended is success. */
  closeAccount(accountId: string): Promise<void>;
  /** ACTIVE, SUSPENDED, PENDING_CLOSURE or null when unknown (for the reconciler). */
  accountState(accountId: string): Promise<string | null>;
}

// ---------------------------------------------------------------- infrastructure (CloudFormation)

export interface StackDeployment {
  readonly stackName: string;
  /** The synthesized CloudFormation template (JSON). */
  readonly template: Readonly<Record<string, unknown>>;
  /** Where to deploy: the platform account (pool, bridge) or the tenant's own (silo). */
  readonly accountId?: string;
  readonly region: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface StackDeployer {
  /**
   * Starts creating or updating the stack (a change set named from the template's hash, so a second
   * call reuses the first's). A template equal to the deployed one is an immediate success.
   */
  startDeployment(deployment: StackDeployment): Promise<void>;
  /** Polls the deployment: SUCCEEDED with the stack outputs; FAILED (after CloudFormation's rollback) with the failing resource's reason. */
  deploymentStatus(stack: { readonly stackName: string; readonly accountId?: string; readonly region: string }): Promise<OperationStatus<{ readonly outputs: Readonly<Record<string, string>> }>>;
  /** Starts deleting the stack; a stack that does not exist is success. */
  startDeletion(stack: { readonly stackName: string; readonly accountId?: string; readonly region: string }): Promise<void>;
  /** Polls the deletion; a stack that no longer exists has SUCCEEDED. */
  deletionStatus(stack: { readonly stackName: string; readonly accountId?: string; readonly region: string }): Promise<OperationStatus<null>>;
  /** Whether the stack exists and is not deleted (for the reconciler). */
  stackExists(stack: { readonly stackName: string; readonly accountId?: string; readonly region: string }): Promise<boolean>;
}

// ---------------------------------------------------------------- kubernetes

/** A Kubernetes object as plain JSON (apiVersion, kind, metadata, ...). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

/**
 * Where the cluster of a tenant's placement is: the shared cluster (no `accountId`), or the tenant's
 * own cluster in its own account (tiers whose placement has `ownCluster`), found there by the tenant's name.
 * The workflow knows it from the placement it records (tenant_resources rows of kind 'kubernetes').
 */
export interface ClusterLocation {
  /** The tenant's own account, for a tier with a cluster of its own; absent for the shared cluster. */
  readonly accountId?: string;
  /** The region of the cluster: the shared one, or the tenant's data-residency region for a tier that runs anywhere. */
  readonly region: string;
}

export interface KubernetesApplier {
  /** Server-side applies the tenant's objects to the cluster at `cluster` (field manager `saas-tenancy-kit`); applying again is a no-op. */
  apply(tenant: TenantRef, cluster: ClusterLocation, objects: readonly KubeObject[]): Promise<void>;
  /** Deletes every object applied for the tenant in that cluster (its namespace and cluster-scoped objects); nothing left is success. */
  remove(tenant: TenantRef, cluster: ClusterLocation): Promise<void>;
  /** `kind/namespace/name` of every object that exists for the tenant in that cluster (for the reconciler). */
  listApplied(tenant: TenantRef, cluster: ClusterLocation): Promise<readonly string[]>;
}

/** Every provider the workflow needs. */
export interface Providers {
  readonly identity: IdentityProvider;
  readonly accounts: AccountProvider;
  readonly stacks: StackDeployer;
  readonly kubernetes: KubernetesApplier;
}
