import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { LimitRange, Namespace, ResourceQuota, ServiceAccount } from 'kubernetes-models/v1';
import { KubeObjectValidationError } from './errors.js';

/** A Kubernetes object as plain JSON. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

/** A kubernetes-models class: built from the object's JSON, `validate()` throws on a schema violation. */
type ModelClass = new (data: never) => { validate(): void };

/** The kinds the charts emit, each with the kubernetes-models class holding its schema. */
const MODELS: ReadonlyMap<string, ModelClass> = new Map(
  ([Namespace, ResourceQuota, LimitRange, ServiceAccount, NetworkPolicy, Role, RoleBinding, Deployment, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding] as unknown as (ModelClass & { apiVersion: string; kind: string })[])
    .map((model) => [`${model.apiVersion}/${model.kind}`, model]),
);

/** The `apiVersion/kind` pairs `validateKubeObjects` knows the schema of. */
export const VALIDATED_KINDS: readonly string[] = [...MODELS.keys()];

/** `Kind/namespace/name`, or `Kind/name` for a cluster-scoped object. */
export function kubeObjectRef(object: { readonly kind?: unknown; readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown } }): string {
  const kind = typeof object.kind === 'string' ? object.kind : '<no kind>';
  const name = typeof object.metadata?.name === 'string' ? object.metadata.name : '<no name>';
  return typeof object.metadata?.namespace === 'string' ? `${kind}/${object.metadata.namespace}/${name}` : `${kind}/${name}`;
}

interface SchemaProblem {
  readonly instancePath?: string;
  readonly message?: string;
}

/**
 * Validates every object against the Kubernetes OpenAPI schema of its kind (kubernetes-models).
 * Throws `KubeObjectValidationError` naming the first failing object and field; an object of a kind
 * with no known schema fails too, since it could not be checked.
 */
export function validateKubeObjects(objects: readonly KubeObject[]): void {
  for (const object of objects) {
    const ref = kubeObjectRef(object);
    if (typeof object.metadata?.name !== 'string' || object.metadata.name === '') {
      throw new KubeObjectValidationError(ref, '/metadata/name', ['/metadata/name: every object needs a name']);
    }
    const model = MODELS.get(`${object.apiVersion}/${object.kind}`);
    if (model === undefined) {
      throw new KubeObjectValidationError(ref, '/', [`/: no schema for ${object.apiVersion} ${object.kind}; known: ${VALIDATED_KINDS.join(', ')}`]);
    }
    try {
      new model(object as never).validate();
    } catch (error) {
      const problems = schemaProblems(error);
      throw new KubeObjectValidationError(ref, problems[0]?.instancePath || '/', problems.map((p) => `${p.instancePath || '/'}: ${p.message ?? 'invalid'}`), { cause: error });
    }
  }
}

function schemaProblems(error: unknown): readonly SchemaProblem[] {
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0) return errors as SchemaProblem[];
  return [{ instancePath: '/', message: error instanceof Error ? error.message : String(error) }];
}
