import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { ProvisioningConfigError } from './errors.js';
import type { KubeObject, Providers, TenantRef } from './providers.js';

/** What the tenant stack is synthesized from. */
export interface TenantStackRequest {
  readonly tenant: TenantRef;
  /** The region the stack goes to: the shared cluster's, or the tenant's own for a tier that runs anywhere. */
  readonly region: string;
  /** The tenant's own account, for a tier that has one. */
  readonly accountId?: string;
}

export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: Readonly<Record<string, unknown>>;
}

/** Synthesizes the tenant's CDK stack (tenant-tiers' `synthesizeTenantStack`). */
export type SynthesizeStack = (request: TenantStackRequest) => SynthesizedStack | Promise<SynthesizedStack>;

/** Renders the tenant's Kubernetes objects for its tier (k8s' `synthTenantManifests`). */
export type RenderManifests = (request: TenantStackRequest) => readonly KubeObject[] | Promise<readonly KubeObject[]>;

/** Validates objects against the Kubernetes schemas (k8s' `validateKubeObjects`); throws, saying what is wrong, when one is invalid. */
export type ValidateManifests = (objects: readonly KubeObject[]) => void | Promise<void>;

/** Everything the provisioning steps need besides the database. */
export interface ProvisioningDeps {
  readonly providers: Providers;
  readonly synthesizeStack: SynthesizeStack;
  readonly renderManifests: RenderManifests;
  readonly validateManifests: ValidateManifests;
  /**
   * Region of the shared cluster; tenants of a tier that runs in any region go to their
   * `dataResidency` region instead.
   * @default 'us-east-1'
   */
  readonly region?: string;
  /**
   * Root email of a tenant's own account; unique across AWS.
   * @default - `aws+<tenant name>@tenants.saas-tenancy-kit.invalid`
   */
  readonly accountEmail?: (tenant: TenantRef) => string;
  /**
   * How long a tenant's own account stays after the tenant left it (offboarding or a move off
   * silo), before CloseAccount. Tests use 0.
   * @default 30 days
   */
  readonly accountRetentionMs?: number;
  /**
   * Account creations in flight at once, across every worker (Organizations allows 5).
   * @default 5
   */
  readonly maxAccountCreationsInFlight?: number;
  /**
   * Failed tries of a step before its workflow is FAILED.
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * Backoff after a failed try: a random delay up to min(maxMs, baseMs x 2^(attempt - 1)) (full jitter).
   * @default { baseMs: 1000, maxMs: 300000 }
   */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /**
   * Time between two polls of an outside operation (account creation, deployment, deletion).
   * @default 5000
   */
  readonly pollIntervalMs?: number;
  /**
   * How long a claimed step belongs to its worker; a crashed worker's step is taken over after it.
   * Longer than any single outside call (a bridge stack synthesis takes seconds).
   * @default 120000
   */
  readonly leaseMs?: number;
  /**
   * Folder offboarding writes each tenant's data manifest to, as `<name>.json`.
   * @default - none: the manifest is kept in the export step's state only
   */
  readonly exportDir?: string;
  /**
   * The S3 prefix of the tenant's data, listed in the offboarding manifest.
   * @default - `tenants/<tenant id>/`
   */
  readonly dataPrefix?: (tenant: TenantRef) => string;
  /** @default - the system clock */
  readonly clock?: () => Date;
  /** @default Math.random */
  readonly random?: () => number;
}

export interface WorkerOptions extends ProvisioningDeps {
  readonly db: Database;
  readonly logger: Logger;
  /**
   * Steps run at once by this process.
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * Pause of an idle worker before it looks for due work again.
   * @default 1000
   */
  readonly idleMs?: number;
  /**
   * Names this process's leases (`locked_by`).
   * @default - `<hostname>:<pid>:<random>`
   */
  readonly workerId?: string;
}

/** The options with their defaults applied and checked. */
export type ResolvedDeps = Required<Omit<ProvisioningDeps, 'exportDir'>> & { readonly exportDir: string | undefined };

const DAY_MS = 24 * 60 * 60 * 1000;
/** The shared cluster's region when none is given. */
export const DEFAULT_REGION = 'us-east-1';

export function resolveDeps(deps: ProvisioningDeps): ResolvedDeps {
  const resolved: ResolvedDeps = {
    providers: deps.providers,
    synthesizeStack: deps.synthesizeStack,
    renderManifests: deps.renderManifests,
    validateManifests: deps.validateManifests,
    region: deps.region ?? DEFAULT_REGION,
    accountEmail: deps.accountEmail ?? ((tenant) => `aws+${tenant.tenantName}@tenants.saas-tenancy-kit.invalid`),
    accountRetentionMs: deps.accountRetentionMs ?? 30 * DAY_MS,
    maxAccountCreationsInFlight: deps.maxAccountCreationsInFlight ?? 5,
    maxAttempts: deps.maxAttempts ?? 8,
    backoff: deps.backoff ?? { baseMs: 1000, maxMs: 300_000 },
    pollIntervalMs: deps.pollIntervalMs ?? 5000,
    leaseMs: deps.leaseMs ?? 120_000,
    exportDir: deps.exportDir,
    dataPrefix: deps.dataPrefix ?? ((tenant) => `tenants/${tenant.tenantId}/`),
    clock: deps.clock ?? (() => new Date()),
    random: deps.random ?? Math.random,
  };
  const checks: [boolean, string][] = [
    [resolved.accountRetentionMs >= 0, `accountRetentionMs must be 0 or more; received ${resolved.accountRetentionMs}.`],
    [Number.isInteger(resolved.maxAccountCreationsInFlight) && resolved.maxAccountCreationsInFlight >= 1, `maxAccountCreationsInFlight must be a whole number of 1 or more; received ${resolved.maxAccountCreationsInFlight}.`],
    [Number.isInteger(resolved.maxAttempts) && resolved.maxAttempts >= 1, `maxAttempts must be a whole number of 1 or more; received ${resolved.maxAttempts}.`],
    [resolved.backoff.baseMs >= 0 && resolved.backoff.maxMs >= resolved.backoff.baseMs, `backoff needs 0 <= baseMs <= maxMs; received ${JSON.stringify(resolved.backoff)}.`],
    [resolved.pollIntervalMs >= 0, `pollIntervalMs must be 0 or more; received ${resolved.pollIntervalMs}.`],
    [resolved.leaseMs > 0, `leaseMs must be more than 0; received ${resolved.leaseMs}.`],
  ];
  const problems = checks.filter(([ok]) => !ok).map(([, message]) => message);
  if (problems.length > 0) throw new ProvisioningConfigError(`Invalid provisioning options: ${problems.join(' ')}`);
  return resolved;
}
