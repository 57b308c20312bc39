import type { KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';

import { kubeObjectRef, TENANT_LABEL, TIER_LABEL, VALIDATED_KINDS } from '../../../../k8s/index.js';
import { TIERS } from '../../../../tenant-tiers/index.js';
import type { ClusterLocation, KubeObject, KubernetesApplier, TenantRef } from '../../providers.js';
import {
  ProviderBusyError,
  ProviderConfigurationError,
  ProviderConflictError,
  ProviderNotFoundError,
  ProviderRejectedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  type ProviderError,
} from './errors.js';

/** A kind of object the applier lists and removes. */
export interface KubernetesKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/** What the applier uses of `KubernetesObjectApi` (@kubernetes/client-node): pass `KubernetesObjectApi.makeApiClient(kubeConfig)`. */
export type KubernetesObjectClient = Pick<KubernetesObjectApi, 'patch' | 'list' | 'delete'>;

/** A silo tenant's own cluster: in its account and region, named from its name (tenant-tiers' `tenantClusterName`). */
export interface SiloCluster {
  readonly accountId: string;
  readonly region: string;
  readonly tenantName: string;
}

/** Gives a client of a silo tenant's own cluster (`EksClusterClients.client`). Called on every operation: cache in it. */
export type SiloClusterClientFactory = (cluster: SiloCluster) => Promise<KubernetesObjectClient>;

export interface KubernetesServerSideApplierProps {
  /** Client of the shared cluster, where pool and bridge tenants live. */
  readonly api: KubernetesObjectClient;
  /**
   * Client of a silo tenant's own cluster, found from its account, region and the tenant's name
   * (`(cluster) => eksClusterClients.client(cluster)`). Called on every operation: cache in it.
   * @default - silo tenants are refused with a ProviderConfigurationError
   */
  readonly siloApi?: SiloClusterClientFactory;
  /**
   * Field manager of every server-side apply.
   * @default 'saas-tenancy-kit'
   */
  readonly fieldManager?: string;
  /**
   * The kinds `listApplied` and `remove` look for, by the tenant's labels.
   * @default - the kinds the tenant charts emit (k8s VALIDATED_KINDS)
   */
  readonly kinds?: readonly KubernetesKind[];
}

/** The order objects are applied in: a namespace before what lives in it, a policy before its binding, guards before workloads. */
const APPLY_RANK: Readonly<Record<string, number>> = {
  Namespace: 0,
  ValidatingAdmissionPolicy: 1,
  ValidatingAdmissionPolicyBinding: 2,
  ResourceQuota: 4,
  LimitRange: 4,
  NetworkPolicy: 5,
  ServiceAccount: 6,
  Role: 6,
  RoleBinding: 7,
};
const OTHER_RANK = 8;
const SERVER_SIDE_APPLY: PatchStrategy = 'application/apply-patch+yaml';
const PAGE_SIZE = 500;

/**
 * Applies a tenant's validated manifests to a Kubernetes cluster by server-side apply, and finds
 * and removes them by the tenant's labels. The tier is part of the selector: a pool -> bridge move
 * re-labels the same namespace, so removing the pool placement afterwards touches nothing of bridge.
 */
export class KubernetesServerSideApplier implements KubernetesApplier {
  private readonly api: KubernetesObjectClient;
  private readonly siloApi: SiloClusterClientFactory | undefined;
  private readonly fieldManager: string;
  private readonly kinds: readonly KubernetesKind[];

  constructor(props: KubernetesServerSideApplierProps) {
    this.api = props.api;
    this.siloApi = props.siloApi;
    this.fieldManager = props.fieldManager ?? 'saas-tenancy-kit';
    if (!/^[\x21-\x7e]{1,128}$/.test(this.fieldManager)) {
      throw new ProviderConfigurationError(`KubernetesServerSideApplier: fieldManager must be 1 to 128 printable characters, received ${JSON.stringify(this.fieldManager)}.`);
    }
    this.kinds = props.kinds ?? VALIDATED_KINDS.map(parseKind);
  }

  async apply(tenant: TenantRef, cluster: ClusterLocation, objects: readonly KubeObject[]): Promise<void> {
    for (const object of objects) {
      checkLabels(tenant, object);
    }
    const api = await this.apiFor(tenant, cluster);
    const ordered = objects.map((object, index) => ({ object, index })).sort((a, b) => rank(a.object) - rank(b.object) || a.index - b.index);
    for (const { object } of ordered) {
      try {
        // A copy: the client fills in defaults (apiVersion, namespace) on the object it is given.
        await api.patch(structuredClone(object), undefined, undefined, this.fieldManager, true, SERVER_SIDE_APPLY);
      } catch (error) {
        throw kubeError(error, 'apply', kubeObjectRef(object));
      }
    }
  }

  async remove(tenant: TenantRef, cluster: ClusterLocation): Promise<void> {
    const api = await this.apiFor(tenant, cluster);
    const found = await this.find(api, tenant);
    const namespaces = new Set(found.filter((object) => object.kind === 'Namespace').map((object) => object.name));
    // Deleting a namespace deletes what is in it; only the cluster-scoped objects and strays elsewhere need their own call.
    const strays = found.filter((object) => object.namespace !== undefined && !namespaces.has(object.namespace));
    const namespaceObjects = found.filter((object) => object.kind === 'Namespace');
    const clusterScoped = found.filter((object) => object.namespace === undefined && object.kind !== 'Namespace').sort((a, b) => rankOf(b.kind) - rankOf(a.kind));
    for (const object of [...strays, ...namespaceObjects, ...clusterScoped]) {
      const spec: KubernetesObject = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.name, ...(object.namespace === undefined ? {} : { namespace: object.namespace }) } };
      try {
        await api.delete(spec, undefined, undefined, undefined, undefined, 'Background');
      } catch (error) {
        if (apiErrorCode(error) !== 404) {
          throw kubeError(error, 'delete', object.ref);
        }
      }
    }
  }

  async listApplied(tenant: TenantRef, cluster: ClusterLocation): Promise<readonly string[]> {
    const found = await this.find(await this.apiFor(tenant, cluster), tenant);
    return found.map((object) => object.ref);
  }

  private async apiFor(tenant: TenantRef, cluster: ClusterLocation): Promise<KubernetesObjectClient> {
    const ownCluster = TIERS[tenant.tier].isolation === 'account';
    if (!ownCluster) {
      if (cluster.accountId !== undefined) {
        throw new ProviderConfigurationError(
          `Tenant ${tenant.tenantName} is ${tenant.tier}, whose objects go to the shared cluster, but the cluster location names account ${cluster.accountId}. Pass { region } alone for the shared cluster.`,
        );
      }
      return this.api;
    }
    if (cluster.accountId === undefined) {
      throw new ProviderConfigurationError(
        `Tenant ${tenant.tenantName} is ${tenant.tier}, whose objects go to its own cluster in its own account, but the cluster location names no account. Pass { accountId, region } of the tenant's account.`,
      );
    }
    if (this.siloApi === undefined) {
      throw new ProviderConfigurationError(
        `Tenant ${tenant.tenantName} is ${tenant.tier}, whose workloads run in the tenant's own cluster, but KubernetesServerSideApplier has no siloApi. Pass siloApi: (cluster) => a client of that cluster (EksClusterClients).`,
      );
    }
    return await this.siloApi({ accountId: cluster.accountId, region: cluster.region, tenantName: tenant.tenantName });
  }

  /** Every object of the configured kinds that carries the tenant's and the tier's labels. */
  private async find(api: KubernetesObjectClient, tenant: TenantRef): Promise<FoundObject[]> {
    const selector = `${TENANT_LABEL}=${tenant.tenantName},${TIER_LABEL}=${tenant.tier}`;
    const found: FoundObject[] = [];
    for (const { apiVersion, kind } of this.kinds) {
      let continueToken: string | undefined;
      do {
        let page;
        try {
          page = await api.list(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, selector, PAGE_SIZE, continueToken);
        } catch (error) {
          if (isUnservedKind(error)) {
            break; // The cluster does not serve this kind, so none of it exists.
          }
          throw kubeError(error, 'list', `${apiVersion} ${kind}`);
        }
        for (const item of page.items) {
          const name = item.metadata?.name;
          if (name === undefined) {
            continue;
          }
          const namespace = item.metadata?.namespace;
          // List items carry no kind of their own: the list's kind names them.
          found.push({ apiVersion, kind, name, namespace, ref: kubeObjectRef({ kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }) } }) });
        }
        continueToken = page.metadata?._continue || undefined;
      } while (continueToken !== undefined);
    }
    return found;
  }
}

interface FoundObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly ref: string;
}

function rankOf(kind: string): number {
  return APPLY_RANK[kind] ?? OTHER_RANK;
}

function rank(object: KubeObject): number {
  // Cluster-scoped kinds the table does not know still go before namespaced ones.
  return APPLY_RANK[object.kind] ?? (object.metadata.namespace === undefined ? 3 : OTHER_RANK);
}

/** `apps/v1/Deployment` -> apps/v1 + Deployment; `v1/Namespace` -> v1 + Namespace. */
function parseKind(key: string): KubernetesKind {
  const slash = key.lastIndexOf('/');
  return { apiVersion: key.slice(0, slash), kind: key.slice(slash + 1) };
}

/** Every object must carry the labels `remove` and `listApplied` select on, or it would be orphaned. */
function checkLabels(tenant: TenantRef, object: KubeObject): void {
  const labels = object.metadata?.labels ?? {};
  for (const [key, expected] of [
    [TENANT_LABEL, tenant.tenantName],
    [TIER_LABEL, tenant.tier],
  ] as const) {
    if (labels[key] !== expected) {
      throw new ProviderConflictError(
        `${kubeObjectRef(object)} has label ${key}=${JSON.stringify(labels[key] ?? null)}, not ${expected}: applied for tenant ${tenant.tenantName} (${tenant.tier}) it could never be found or removed again. Render the manifests for this tenant and tier.`,
      );
    }
  }
}

/** The client's way of saying the cluster does not serve a kind (no such resource, or no such group version). */
function isUnservedKind(error: unknown): boolean {
  if (apiErrorCode(error) === 404) {
    return /Failed to fetch resource metadata/.test((error as Error).message);
  }
  return error instanceof Error && /^Unrecognized API version and kind/.test(error.message);
}

interface KubeStatus {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: readonly { readonly reason?: string }[] };
}

/** The HTTP status of the client's ApiException (told by shape: the class is not imported at runtime), else undefined. */
function apiErrorCode(error: unknown): number | undefined {
  if (error instanceof Error && 'body' in error && 'headers' in error && typeof (error as { code?: unknown }).code === 'number') {
    return (error as unknown as { code: number }).code;
  }
  return undefined;
}

/** The API server's Status from an ApiException body, which client-node 2.x leaves as the response text. */
function statusOf(body: unknown): KubeStatus {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? parsed : {};
    } catch {
      return { message: body };
    }
  }
  return typeof body === 'object' && body !== null ? body : {};
}

function kubeError(error: unknown, verb: string, what: string): ProviderError {
  const code = apiErrorCode(error);
  if (code !== undefined) {
    const body = (error as { body?: unknown }).body;
    const status = statusOf(body);
    const message = `Kubernetes ${verb} ${what} failed: HTTP ${code}${status.reason ? ` ${status.reason}` : ''}: ${status.message ?? String(body)}`;
    const options = { cause: error };
    if (code === 429) return new ProviderThrottledError(message, options);
    if (code >= 500) return new ProviderUnavailableError(message, options);
    if ((status.details?.causes ?? []).some((cause) => cause.reason === 'NamespaceTerminating')) {
      return new ProviderBusyError(`${message}. The tenant's namespace is still being deleted; apply again once it is gone.`, options);
    }
    if (code === 401 || code === 403) return new ProviderConfigurationError(`${message}. Check the cluster credentials and RBAC (docs/aws-providers.md).`, options);
    if (code === 404) return new ProviderNotFoundError(message, options);
    if (code === 409) return new ProviderConflictError(message, options);
    return new ProviderRejectedError(message, options);
  }
  if (isUnservedKind(error)) {
    return new ProviderConfigurationError(
      `Kubernetes ${verb} ${what}: the cluster does not serve this kind (${(error as Error).message}). ValidatingAdmissionPolicy v1 needs Kubernetes 1.30 or later.`,
      { cause: error },
    );
  }
  const message = `Kubernetes ${verb} ${what} failed: ${error instanceof Error ? error.message : String(error)}`;
  if (isNetworkFailure(error)) {
    return new ProviderUnavailableError(message, { cause: error });
  }
  return new ProviderRejectedError(message, { cause: error });
}

/** A socket failure: client-node's fetch error carries its code (ECONNREFUSED, ...), on the error or as its cause. */
function isNetworkFailure(error: unknown): boolean {
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.cause?.code ?? (error as { code?: unknown } | undefined)?.code;
  return (error instanceof TypeError && error.message === 'fetch failed') || (typeof code === 'string' && /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|UND_ERR)/.test(code));
}
