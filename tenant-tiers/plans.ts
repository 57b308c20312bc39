/**
 * The plan catalog: what a tenant buys. A plan sets the price, the tier a tenant starts on and the
 * tiers it may be placed on; requirements (see policy.ts) may raise the tier within that set.
 */
import type { TierName } from './tiers.js';

/** Plan names, ordered from cheapest to most expensive; the first plan allowing a tier is its upgrade target. */
export const PLAN_NAMES = ['trial', 'basic', 'standard', 'premium', 'enterprise'] as const;

/** A plan a tenant subscribes to. */
export type PlanName = (typeof PLAN_NAMES)[number];

/** Everything that differs between plans. */
export interface PlanSpec {
  /** Key of the plan in `PLANS`. */
  readonly name: PlanName;
  /** Name shown to people. */
  readonly displayName: string;
  /** Subscription price per month in USD, before the tier's base price. */
  readonly monthlyPriceUsd: number;
  /** Tier the tenant gets when no requirement asks for more. */
  readonly defaultTier: TierName;
  /** Tiers the plan may place a tenant on, least isolated first; always includes `defaultTier`. */
  readonly allowedTiers: readonly TierName[];
  /** Most users (people with a login) the tenant may have. */
  readonly maxUsers: number;
  /** Length of the free trial in days, or `null` for a paid plan without one. */
  readonly trialDays: number | null;
}

/**
 * Plans. Judgement calls:
 * - premium defaults to bridge (its customers pay for dedicated nodes) but may opt down to pool;
 * - enterprise is the only plan that reaches silo, because an account per tenant costs ~$2,000 a
 *   month before the tenant runs anything;
 * - enterprise still defaults to bridge: a silo account takes minutes to create and counts against
 *   the Organizations account quota, so the policy places a tenant there only when a requirement
 *   (pci, data residency outside the shared region, more than bridge's vCPU) or an override asks.
 */
export const PLANS: Readonly<Record<PlanName, PlanSpec>> = {
  trial: {
    name: 'trial',
    displayName: 'Trial',
    monthlyPriceUsd: 0,
    defaultTier: 'pool',
    allowedTiers: ['pool'],
    maxUsers: 5,
    trialDays: 14,
  },
  basic: {
    name: 'basic',
    displayName: 'Basic',
    monthlyPriceUsd: 49,
    defaultTier: 'pool',
    allowedTiers: ['pool'],
    maxUsers: 10,
    trialDays: null,
  },
  standard: {
    name: 'standard',
    displayName: 'Standard',
    monthlyPriceUsd: 299,
    defaultTier: 'pool',
    allowedTiers: ['pool', 'bridge'],
    maxUsers: 50,
    trialDays: null,
  },
  premium: {
    name: 'premium',
    displayName: 'Premium',
    monthlyPriceUsd: 999,
    defaultTier: 'bridge',
    allowedTiers: ['pool', 'bridge'],
    maxUsers: 250,
    trialDays: null,
  },
  enterprise: {
    name: 'enterprise',
    displayName: 'Enterprise',
    monthlyPriceUsd: 4999,
    defaultTier: 'bridge',
    allowedTiers: ['pool', 'bridge', 'silo'],
    maxUsers: 5000,
    trialDays: null,
  },
};

/** Whether `value` names a plan. */
export function isPlanName(value: string): value is PlanName {
  return (PLAN_NAMES as readonly string[]).includes(value);
}

/** The cheapest plan whose allowed tiers include `tier`, or `undefined` when none does. */
export function cheapestPlanAllowing(tier: TierName): PlanName | undefined {
  return PLAN_NAMES.find((plan) => PLANS[plan].allowedTiers.includes(tier));
}
