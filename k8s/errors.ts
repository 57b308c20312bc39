/** Errors of the k8s module (convention 11: a base class per module, subclasses set `name`). */

/** Base of every error this module throws. */
export class K8sError extends Error {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'K8sError';
  }
}

/** A `TenantManifestInput` the charts cannot render; `field` names the input field to fix. */
export class TenantManifestInputError extends K8sError {
  /** Input field at fault as a dotted path, e.g. `tenantName`, `egress[1].cidrs[0]`. */
  public readonly field: string;
  /** The value received for `field`. */
  public readonly received: unknown;

  public constructor(field: string, received: unknown, message: string, options?: { readonly cause?: unknown }) {
    super(`${field}: ${message} (received ${JSON.stringify(received) ?? String(received)})`, options);
    this.name = 'TenantManifestInputError';
    this.field = field;
    this.received = received;
  }
}

/** A generated Kubernetes object that does not match the Kubernetes schema of its kind. */
export class KubeObjectValidationError extends K8sError {
  /** `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects) of the failing object. */
  public readonly object: string;
  /** JSON pointer of the first failing field inside the object, e.g. `/spec/containers/0/image`; `/` for the whole object. */
  public readonly path: string;
  /** Every schema violation found, as `path: message`. */
  public readonly problems: readonly string[];

  public constructor(object: string, path: string, problems: readonly string[], options?: { readonly cause?: unknown }) {
    super(`${object} is not a valid Kubernetes object at ${path}: ${problems.join('; ')}`, options);
    this.name = 'KubeObjectValidationError';
    this.object = object;
    this.path = path;
    this.problems = problems;
  }
}

/** The manifests folder could not be written; the previous folder, if any, is left as it was. */
export class ManifestWriteError extends K8sError {
  /** The folder that was being written. */
  public readonly directory: string;

  public constructor(directory: string, message: string, options?: { readonly cause?: unknown }) {
    super(`${directory}: ${message}`, options);
    this.name = 'ManifestWriteError';
    this.directory = directory;
  }
}
