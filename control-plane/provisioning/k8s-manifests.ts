import { synthTenantManifests, validateKubeObjects, type EgressEndpoint } from '../../k8s/index.js';
import type { RenderManifests, ValidateManifests } from './options.js';

export interface K8sManifestOptions {
  /** Container image of the job executor every tenant runs. */
  readonly executorImage: string;
  /**
   * Endpoints tenant pods may reach besides DNS and their namespace.
   * @default - k8s' DEFAULT_EGRESS_ENDPOINTS
   */
  readonly egress?: readonly EgressEndpoint[];
}

/** The k8s module's chart and schema validation, as the workflow's `renderManifests` and `validateManifests`. */
export function k8sManifests(options: K8sManifestOptions): { readonly renderManifests: RenderManifests; readonly validateManifests: ValidateManifests } {
  return {
    renderManifests: ({ tenant }) =>
      synthTenantManifests({ tenantId: tenant.tenantId, tenantName: tenant.tenantName, tier: tenant.tier, executorImage: options.executorImage, ...(options.egress ? { egress: options.egress } : {}) }).objects,
    validateManifests: (objects) => validateKubeObjects(objects),
  };
}
