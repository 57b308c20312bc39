/**
 * The tier policy: plan + requirements (+ an optional override) -> tier + reasons. Pure: no I/O, no
 * clock, no configuration beyond its arguments. Every threshold comes from `TIERS` and `PLANS`.
 */
import { TierPolicyError, TenantTiersError } from './errors.js';
import { PLANS, PLAN_NAMES, cheapestPlanAllowing, isPlanName } from './plans.js';
import type { PlanName } from './plans.js';
import { COMPLIANCE_RATIONALE, COMPLIANCE_REGIMES, TIERS, TIER_NAMES, isCompliance, isTierName, tierRank } from './tiers.js';
import type { Compliance, TierName, TierSpec } from './tiers.js';

/** What the tenant needs from its tier. Every field raises the minimum tier; none lowers it. */
export interface TierRequirements {
  /** Compliance regimes the tenant must meet. @default - none */
  readonly compliance?: readonly Compliance[];
  /** AWS region the tenant's data must stay in, e.g. `eu-central-1`. @default - any region */
  readonly dataResidency?: string;
  /** vCPU the tenant expects to use at peak. @default - fits every tier */
  readonly expectedVcpu?: number;
  /** Whether the tenant's pods must run on nodes no other tenant uses. @default false */
  readonly dedicatedCapacity?: boolean;
}

/** A request for a tier, as the onboarding API receives it. */
export interface TierRequest {
  /** Plan name; must be one of `PLAN_NAMES`. */
  readonly plan: string;
  /** What the tenant needs. @default - no requirements: the plan's default tier */
  readonly requirements?: TierRequirements;
  /** Tier to use instead of the policy's choice; must be allowed by the plan and meet every requirement. @default - the policy's choice */
  readonly tierOverride?: string;
}

/** Facts about the installation the policy depends on. */
export interface TierPolicyContext {
  /** Region of the shared EKS cluster (pool and bridge tenants live there). @default 'us-east-1' */
  readonly sharedRegion?: string;
}

/** The policy's answer. */
export interface TierDecision {
  /** The validated plan. */
  readonly plan: PlanName;
  /** The tier to provision. */
  readonly tier: TierName;
  /** Why, in words: the plan default first, then one reason per requirement that sets a minimum tier, then the override if any. */
  readonly reasons: readonly string[];
  /** Plan price + the tier's base price, USD per month. */
  readonly monthlyEstimateUsd: number;
  /** True when the tier was pinned by an accepted `tierOverride`. */
  readonly overridden: boolean;
}

const DEFAULT_SHARED_REGION = 'us-east-1';
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;
const REQUIREMENT_KEYS: readonly string[] = ['compliance', 'dataResidency', 'expectedVcpu', 'dedicatedCapacity'];

/** The least isolated tier a requirement (or the plan default) accepts. */
interface Minimum {
  readonly tier: TierName;
  /** Request field that set this minimum. */
  readonly field: string;
  readonly reason: string;
}

/**
 * Chooses the least isolated tier that meets every requirement and is at least the plan's default,
 * or the override when it is allowed. Throws `TierPolicyError` on any request it cannot honour.
 */
export function chooseTier(request: TierRequest, context: TierPolicyContext = {}): TierDecision {
  const sharedRegion = context.sharedRegion ?? DEFAULT_SHARED_REGION;
  if (!REGION_PATTERN.test(sharedRegion)) {
    // A misconfigured installation, not a bad request: no TierPolicyError code fits.
    throw new TenantTiersError(
      `context.sharedRegion must be an AWS region like 'us-east-1', received ${show(sharedRegion)}; fix the shared cluster's region in the configuration.`,
    );
  }
  const plan = parsePlan(request.plan);
  const planSpec = PLANS[plan];
  const requirements = parseRequirements(request.requirements);

  const planDefault: Minimum = {
    tier: planSpec.defaultTier,
    field: 'plan',
    reason: `plan ${plan} defaults to ${planSpec.defaultTier}`,
  };
  const requirementMinimums = minimumsOf(requirements, sharedRegion);
  const strictest = mostIsolated(requirementMinimums);
  // Ties go to the plan default, so a requirement is named only when it raised the tier.
  const needed = strictest !== undefined && tierRank(strictest.tier) > tierRank(planDefault.tier) ? strictest : planDefault;

  if (!planSpec.allowedTiers.includes(needed.tier)) {
    throw new TierPolicyError(
      'requirements-unsatisfiable',
      needed.field,
      `${needed.reason}, but plan ${plan} allows only ${planSpec.allowedTiers.join(', ')}; ` +
        `choose plan ${cheapestPlanAllowing(needed.tier) ?? '(none)'} or higher, or drop ${needed.field}.`,
    );
  }

  const reasons = [planDefault.reason, ...requirementMinimums.map((minimum) => minimum.reason)];
  let tier = needed.tier;
  if (request.tierOverride !== undefined) {
    tier = checkOverride(request.tierOverride, plan, strictest);
    reasons.push(
      tier === needed.tier
        ? `tierOverride ${tier} pins the tier the policy chose`
        : `tierOverride ${tier} replaces the policy's choice of ${needed.tier}`,
    );
  }

  return {
    plan,
    tier,
    reasons,
    monthlyEstimateUsd: planSpec.monthlyPriceUsd + TIERS[tier].baseMonthlyPriceUsd,
    overridden: request.tierOverride !== undefined,
  };
}

function parsePlan(plan: unknown): PlanName {
  if (typeof plan === 'string' && isPlanName(plan)) return plan;
  throw new TierPolicyError(
    'unknown-plan',
    'plan',
    `plan ${show(plan)} is not a plan; use one of ${PLAN_NAMES.join(', ')}.`,
  );
}

/** Checks shape and values of the requirements; the types are not trusted because requests come from JSON. */
function parseRequirements(requirements: unknown): TierRequirements {
  if (requirements === undefined) return {};
  if (typeof requirements !== 'object' || requirements === null || Array.isArray(requirements)) {
    throw invalid('requirements', requirements, 'send an object such as { "compliance": ["hipaa"] }, or omit it');
  }
  const fields = requirements as Record<string, unknown>;
  // A misspelt key ('complience') silently ignored could place a PCI tenant in the pool.
  const unknownKey = Object.keys(fields).find((key) => !REQUIREMENT_KEYS.includes(key));
  if (unknownKey !== undefined) {
    throw invalid(
      `requirements.${unknownKey}`,
      fields[unknownKey],
      `remove it or fix its spelling; known requirements are ${REQUIREMENT_KEYS.join(', ')}`,
      'is not a known requirement',
    );
  }

  const { compliance, dataResidency, expectedVcpu, dedicatedCapacity } = fields;
  if (compliance !== undefined) {
    if (!Array.isArray(compliance) || !compliance.every(isCompliance)) {
      throw invalid('requirements.compliance', compliance, `send a list of ${COMPLIANCE_REGIMES.join(', ')}`);
    }
  }
  if (dataResidency !== undefined && (typeof dataResidency !== 'string' || !REGION_PATTERN.test(dataResidency))) {
    throw invalid('requirements.dataResidency', dataResidency, "send an AWS region code such as 'eu-central-1'");
  }
  if (expectedVcpu !== undefined && (typeof expectedVcpu !== 'number' || !Number.isFinite(expectedVcpu) || expectedVcpu < 0)) {
    throw invalid('requirements.expectedVcpu', expectedVcpu, 'send the peak vCPU as a finite number >= 0, e.g. 16');
  }
  if (dedicatedCapacity !== undefined && typeof dedicatedCapacity !== 'boolean') {
    throw invalid('requirements.dedicatedCapacity', dedicatedCapacity, 'send true or false');
  }
  return fields;
}

function invalid(field: string, received: unknown, fix: string, problem = 'is invalid'): TierPolicyError {
  return new TierPolicyError('invalid-requirement', field, `${field} ${problem}, received ${show(received)}; ${fix}.`);
}

/** One minimum per requirement given, in a fixed order: compliance, dataResidency, expectedVcpu, dedicatedCapacity. */
function minimumsOf(requirements: TierRequirements, sharedRegion: string): Minimum[] {
  const minimums: Minimum[] = [];

  for (const regime of new Set(requirements.compliance ?? [])) {
    const tier = leastTier((spec) => spec.compliance.includes(regime));
    minimums.push({
      tier,
      field: 'requirements.compliance',
      reason: `compliance ${regime} requires ${COMPLIANCE_RATIONALE[regime]}: ${tier}`,
    });
  }

  const region = requirements.dataResidency;
  if (region !== undefined) {
    const tier = leastTier((spec) => region === sharedRegion || spec.runsInAnyRegion);
    const reason =
      region === sharedRegion
        ? `dataResidency ${region} is the shared cluster's region, so every tier qualifies: ${tier}`
        : `dataResidency ${region} is outside the shared cluster's region ${sharedRegion}, so it needs a tier that runs in any region: ${tier}`;
    minimums.push({ tier, field: 'requirements.dataResidency', reason });
  }

  const vcpu = requirements.expectedVcpu;
  if (vcpu !== undefined) {
    const fitting = TIER_NAMES.find((name) => TIERS[name].maxVcpu >= vcpu);
    if (fitting === undefined) {
      const largest = TIER_NAMES[TIER_NAMES.length - 1];
      throw new TierPolicyError(
        'requirements-unsatisfiable',
        'requirements.expectedVcpu',
        `requirements.expectedVcpu ${vcpu} exceeds the largest tier, ${largest}, which serves up to ${TIERS[largest].maxVcpu} vCPU; ` +
          `ask for at most ${TIERS[largest].maxVcpu} or split the workload across tenants.`,
      );
    }
    const below = TIER_NAMES[tierRank(fitting) - 1];
    const exceeded = below === undefined ? '' : `exceeds ${below} (${TIERS[below].maxVcpu} vCPU) and `;
    minimums.push({
      tier: fitting,
      field: 'requirements.expectedVcpu',
      reason: `expectedVcpu ${vcpu} ${exceeded}fits ${fitting} (up to ${TIERS[fitting].maxVcpu} vCPU)`,
    });
  }

  if (requirements.dedicatedCapacity === true) {
    const tier = leastTier((spec) => spec.dedicatedCapacity);
    minimums.push({ tier, field: 'requirements.dedicatedCapacity', reason: `dedicatedCapacity requires nodes no other tenant uses: ${tier}` });
  }
  return minimums;
}

/** The least isolated tier whose spec satisfies `fits`; the catalog guarantees silo satisfies every rule. */
function leastTier(fits: (spec: TierSpec) => boolean): TierName {
  const tier = TIER_NAMES.find((name) => fits(TIERS[name]));
  if (tier === undefined) throw new TenantTiersError('TIERS has no tier for a requirement; the catalog is inconsistent.');
  return tier;
}

/** The most isolated minimum (on ties the earliest), or `undefined` when there are none. */
function mostIsolated(minimums: readonly Minimum[]): Minimum | undefined {
  return minimums.reduce<Minimum | undefined>(
    (best, next) => (best === undefined || tierRank(next.tier) > tierRank(best.tier) ? next : best),
    undefined,
  );
}

/** Accepts the override when it is a tier the plan allows and the strictest requirement still holds. */
function checkOverride(override: unknown, plan: PlanName, strictest: Minimum | undefined): TierName {
  if (!isTierName(override)) {
    throw new TierPolicyError(
      'unknown-tier',
      'tierOverride',
      `tierOverride ${show(override)} is not a tier; use one of ${TIER_NAMES.join(', ')}, or omit it to let the policy choose.`,
    );
  }
  const allowed = PLANS[plan].allowedTiers;
  if (!allowed.includes(override)) {
    throw new TierPolicyError(
      'override-not-allowed',
      'tierOverride',
      `tierOverride ${override} is not allowed by plan ${plan}, which allows ${allowed.join(', ')}; ` +
        `choose plan ${cheapestPlanAllowing(override) ?? '(none)'} or higher, or override to an allowed tier.`,
    );
  }
  if (strictest !== undefined && tierRank(strictest.tier) > tierRank(override)) {
    throw new TierPolicyError(
      'override-not-allowed',
      'tierOverride',
      `tierOverride ${override} is below what ${strictest.field} needs (${strictest.reason}); ` +
        `override to ${strictest.tier} or a more isolated tier, or drop ${strictest.field}.`,
    );
  }
  return override;
}

/** The received value as it appeared in the request, for error messages. */
function show(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  try {
    // JSON.stringify gives undefined for functions and symbols, which a JSON request cannot carry anyway.
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
