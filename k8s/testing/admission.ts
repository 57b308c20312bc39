/**
 * Test-only: evaluates a ValidatingAdmissionPolicy and its binding the way the Kubernetes API server
 * does, with a plain CEL engine, so tests run the exact expressions the chart ships.
 *
 * Bound like Kubernetes: `object` (the Pod or Service), `oldObject` (null on CREATE), `request`, `params` (null:
 * the policy has no paramKind), `namespaceObject`, and `variables` (each evaluated in order).
 * JSON integers become CEL ints (bigint), as Kubernetes types integer schema fields. `authorizer` and
 * the Kubernetes CEL libraries are not provided; the shipped rules do not use them.
 */
import { parse } from '@marcbachmann/cel-js';
import type { KubeObject } from '../validate.js';

export interface AdmissionAttempt {
  readonly operation: 'CREATE' | 'UPDATE';
  /** The Pod or Service as it reaches validating admission (after mutation). */
  readonly object: KubeObject;
  /** The Namespace the object is created in. */
  readonly namespace: KubeObject;
  /** `ephemeralcontainers` when the request goes to that subresource of a pod. */
  readonly subResource?: string;
  readonly oldObject?: KubeObject;
}

export interface AdmissionOutcome {
  /** Whether the policy applies to the request at all (resource, operation, namespace). */
  readonly matched: boolean;
  /** Whether the object is admitted. */
  readonly allowed: boolean;
  /** Messages of the failed validations, in policy order. */
  readonly messages: readonly string[];
}

interface Selector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly unknown[];
}

interface ResourceRule {
  readonly apiGroups?: readonly string[];
  readonly apiVersions?: readonly string[];
  readonly operations?: readonly string[];
  readonly resources?: readonly string[];
}

interface PolicySpec {
  readonly failurePolicy?: string;
  readonly matchConstraints?: { readonly namespaceSelector?: Selector; readonly resourceRules?: readonly ResourceRule[] };
  readonly matchConditions?: readonly { readonly name: string; readonly expression: string }[];
  readonly variables?: readonly { readonly name: string; readonly expression: string }[];
  readonly validations?: readonly { readonly expression: string; readonly message?: string }[];
}

interface BindingSpec {
  readonly policyName: string;
  readonly validationActions: readonly string[];
  readonly matchResources?: { readonly namespaceSelector?: Selector };
}

/** Plain JSON to CEL values: integral numbers to int (bigint), recursively. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  return value;
}

function selects(selector: Selector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return true;
  if (selector.matchExpressions !== undefined && selector.matchExpressions.length > 0) {
    throw new Error('this evaluator supports matchLabels selectors only');
  }
  return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

/** The core/v1 resource of the kinds this evaluator knows. */
const RESOURCES: Readonly<Record<string, string>> = { Pod: 'pods', Service: 'services' };

function resourceOf(object: KubeObject): string {
  const resource = RESOURCES[object.kind];
  if (resource === undefined) throw new Error(`this evaluator knows Pods and Services, not ${object.kind}`);
  return resource;
}

function ruleMatches(rules: readonly ResourceRule[] | undefined, attempt: AdmissionAttempt): boolean {
  const resource = attempt.subResource === undefined ? resourceOf(attempt.object) : `${resourceOf(attempt.object)}/${attempt.subResource}`;
  return (rules ?? []).some((rule) =>
    (rule.apiGroups ?? []).some((g) => g === '' || g === '*')
    && (rule.apiVersions ?? []).some((v) => v === 'v1' || v === '*')
    && (rule.operations ?? []).some((o) => o === attempt.operation || o === '*')
    && (rule.resources ?? []).some((r) => r === resource || r === '*' || r === '*/*'));
}

function evaluate(expression: string, context: Record<string, unknown>): unknown {
  return parse(expression)(context);
}

/** What the API server decides for `attempt` under `policy` bound by `binding`. */
export function admit(policy: KubeObject, binding: KubeObject, attempt: AdmissionAttempt): AdmissionOutcome {
  const spec = policy.spec as PolicySpec;
  const bindingSpec = binding.spec as BindingSpec;
  // The API server labels every namespace with its own name (kubernetes.io/metadata.name).
  const namespaceLabels = { ...attempt.namespace.metadata.labels, 'kubernetes.io/metadata.name': attempt.namespace.metadata.name };
  const namespaceObject = { ...attempt.namespace, metadata: { ...attempt.namespace.metadata, labels: namespaceLabels } };
  const matched = bindingSpec.policyName === policy.metadata.name
    && attempt.object.metadata.namespace === attempt.namespace.metadata.name
    && ruleMatches(spec.matchConstraints?.resourceRules, attempt)
    && selects(spec.matchConstraints?.namespaceSelector, namespaceLabels)
    && selects(bindingSpec.matchResources?.namespaceSelector, namespaceLabels);
  if (!matched) return { matched: false, allowed: true, messages: [] };

  const context: Record<string, unknown> = {
    object: toCel(attempt.object),
    oldObject: attempt.oldObject === undefined ? null : toCel(attempt.oldObject),
    request: toCel({
      operation: attempt.operation,
      namespace: attempt.namespace.metadata.name,
      name: attempt.object.metadata.name,
      kind: { group: '', version: 'v1', kind: attempt.object.kind },
      resource: { group: '', version: 'v1', resource: resourceOf(attempt.object) },
      subResource: attempt.subResource ?? '',
    }),
    params: null,
    namespaceObject: toCel(namespaceObject),
  };
  const variables: Record<string, unknown> = {};
  context.variables = variables;
  const fails = (message: string): AdmissionOutcome => ({ matched: true, allowed: spec.failurePolicy === 'Ignore', messages: [message] });
  try {
    for (const condition of spec.matchConditions ?? []) {
      if (evaluate(condition.expression, context) !== true) return { matched: false, allowed: true, messages: [] };
    }
    for (const variable of spec.variables ?? []) variables[variable.name] = evaluate(variable.expression, context);
  } catch (error) {
    return fails(`evaluation error: ${(error as Error).message}`);
  }

  const messages: string[] = [];
  for (const validation of spec.validations ?? []) {
    let result: unknown;
    try {
      result = evaluate(validation.expression, context);
    } catch (error) {
      // An expression that errors counts as a failure under failurePolicy Fail.
      if (spec.failurePolicy !== 'Ignore') messages.push(`evaluation error in ${validation.expression}: ${(error as Error).message}`);
      continue;
    }
    if (typeof result !== 'boolean') throw new Error(`validation does not return a bool: ${validation.expression}`);
    if (!result) messages.push(validation.message ?? validation.expression);
  }
  const denies = bindingSpec.validationActions.includes('Deny');
  return { matched: true, allowed: messages.length === 0 || !denies, messages };
}
