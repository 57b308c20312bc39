/** Errors of the tenant-tiers module (convention 11: a base class per module, subclasses set `name`). */

/** Base of every error this module throws. */
export class TenantTiersError extends Error {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'TenantTiersError';
  }
}

/** Why the tier policy rejected a request. The HTTP layer maps every code to 422. */
export type TierPolicyErrorCode =
  /** `plan` is not in `PLAN_NAMES`. */
  | 'unknown-plan'
  /** `tierOverride` is not in `TIER_NAMES`. */
  | 'unknown-tier'
  /** A requirement is malformed: wrong type, unknown value, bad region, negative vCPU, unknown key. */
  | 'invalid-requirement'
  /** Valid requirements that the plan (or any tier) cannot meet. */
  | 'requirements-unsatisfiable'
  /** `tierOverride` is a known tier that the plan does not allow or that breaks a requirement. */
  | 'override-not-allowed';

/** A tier request the policy cannot decide; `field` points at the part of the request to fix. */
export class TierPolicyError extends TenantTiersError {
  /** Machine-readable reason. */
  public readonly code: TierPolicyErrorCode;
  /** Request field at fault as a dotted path, e.g. `plan`, `tierOverride`, `requirements.compliance`. */
  public readonly field: string;

  public constructor(
    code: TierPolicyErrorCode,
    field: string,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TierPolicyError';
    this.code = code;
    this.field = field;
  }
}
