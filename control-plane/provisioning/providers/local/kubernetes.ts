import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubeObjectRef, layoutTenantManifests, removeTenantManifests, tenantManifestDirectory, writeTenantManifests } from '../../../../k8s/index.js';
import { tenantNamespaceName } from '../../../../tenant-tiers/index.js';
import { placementOf } from '../../plans.js';
import type { KubeObject, KubernetesApplier, TenantRef } from '../../providers.js';
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

  /** The GitOps root of the cluster the tenant's placement lives in. */
  rootOf(tenant: TenantRef): string {
    const root = join(this.props.dataDir, 'manifests');
    return placementOf(tenant.tier).ownCluster ? join(root, 'clusters', tenant.tenantName) : root;
  }

  folderOf(tenant: TenantRef): string {
    return join(this.rootOf(tenant), tenantManifestDirectory(tenant.tenantName));
  }

  apply(tenant: TenantRef, objects: readonly KubeObject[]): Promise<void> {
    return this.mutex.run(async () => {
      await writeTenantManifests(this.rootOf(tenant), layoutTenantManifests(tenant.tenantName, tenantNamespaceName(tenant.tenantName), objects));
    });
  }

  remove(tenant: TenantRef): Promise<void> {
    return this.mutex.run(() => removeTenantManifests(this.rootOf(tenant), tenant.tenantName));
  }

  listApplied(tenant: TenantRef): Promise<readonly string[]> {
    const folder = this.folderOf(tenant);
    return this.mutex.run(async () => {
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
