import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubeObjectRef, layoutTenantManifests, removeTenantManifests, tenantManifestDirectory, writeTenantManifests } from '../../../../k8s/index.js';
import { tenantNamespaceName } from '../../../../tenant-tiers/index.js';
import { LocalProviderError } from '../../errors.js';
import { placementOf } from '../../plans.js';
import type { ClusterLocation, KubeObject, KubernetesApplier, TenantRef } from '../../providers.js';
import { Mutex } from './files.js';

export interface LocalKubernetesProps {
  /**
   * The shared cluster's GitOps root is `<dataDir>/manifests/` (a tenant's folder: `tenants/<name>/`);
   * a tenant with a cluster of its own gets the root `<dataDir>/manifests/clusters/<name>/`.
   */
  readonly dataDir: string;
}

/**
 * Kubernetes as a GitOps folder: applying writes the tenant's validated objects as its kustomize
 * folder (k8s' layout, swapped in whole, as a prune would), removing deletes the folder, and what is
 * applied is read back from the files.
 */
export class LocalKubernetes implements KubernetesApplier {
  private readonly mutex = new Mutex();

  constructor(private readonly props: LocalKubernetesProps) {}

  /**
   * The GitOps root of the cluster the tenant's placement lives in. The location must match the tier,
   * as the AWS applier requires: an account for a cluster of the tenant's own, none for the shared one.
   */
  rootOf(tenant: TenantRef, cluster: ClusterLocation): string {
    const ownCluster = placementOf(tenant.tier).ownCluster;
    if (ownCluster !== (cluster.accountId !== undefined)) {
      throw new LocalProviderError(
        `Tenant ${tenant.tenantName} (${tenant.tier}) ${ownCluster ? 'has a cluster of its own, in its account, but the location names no account' : `is on the shared cluster, but the location names account ${cluster.accountId}`}: pass the placement's { accountId, region }.`,
      );
    }
    const root = join(this.props.dataDir, 'manifests');
    return ownCluster ? join(root, 'clusters', tenant.tenantName) : root;
  }

  folderOf(tenant: TenantRef, cluster: ClusterLocation): string {
    return join(this.rootOf(tenant, cluster), tenantManifestDirectory(tenant.tenantName));
  }

  apply(tenant: TenantRef, cluster: ClusterLocation, objects: readonly KubeObject[]): Promise<void> {
    return this.mutex.run(async () => {
      await writeTenantManifests(this.rootOf(tenant, cluster), layoutTenantManifests(tenant.tenantName, tenantNamespaceName(tenant.tenantName), objects));
    });
  }

  remove(tenant: TenantRef, cluster: ClusterLocation): Promise<void> {
    return this.mutex.run(async () => await removeTenantManifests(this.rootOf(tenant, cluster), tenant.tenantName));
  }

  listApplied(tenant: TenantRef, cluster: ClusterLocation): Promise<readonly string[]> {
    return this.mutex.run(async () => {
      const folder = this.folderOf(tenant, cluster);
      let files: string[];
      try {
        files = (await readdir(folder, { recursive: true })).filter((file) => /\.(ya?ml|json)$/.test(file) && !/(^|\/)kustomization\.ya?ml$/.test(file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const applied: string[] = [];
      for (const file of files.sort()) {
        for (const document of parseAllDocuments(await readFile(join(folder, file), 'utf8'))) {
          const object = document.toJS() as Partial<KubeObject> | null;
          if (object?.kind && object.metadata?.name) applied.push(kubeObjectRef(object));
        }
      }
      return applied.sort();
    });
  }
}
