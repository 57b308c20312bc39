import { TIERS, type Isolation, type TierName } from '../../tenant-tiers/index.js';

/**
 * Where a tier's tenant lives, by its isolation: the only place that knows what an isolation level
 * means for provisioning. Every step plan and every removal reads this table (and `TIERS`), never
 * a tier name.
 */
interface Placement {
  /** The tenant gets its own AWS account (Organizations CreateAccount), closed when it leaves it. */
  readonly ownAccount: boolean;
  /** The tenant's Kubernetes objects live in a cluster of their own, not in the shared one. */
  readonly ownCluster: boolean;
}

const PLACEMENTS: Readonly<Record<Isolation, Placement>> = {
  namespace: { ownAccount: false, ownCluster: false },
  'node-group': { ownAccount: false, ownCluster: false },
  account: { ownAccount: true, ownCluster: true },
};

export function placementOf(tier: TierName): Placement {
  return PLACEMENTS[TIERS[tier].isolation];
}

/** The cluster a tier's objects go to: `shared`, or the tenant's own in its account. */
export function clusterKey(tier: TierName, accountId: string | null): string {
  return placementOf(tier).ownCluster ? `account:${accountId ?? 'unknown'}` : 'shared';
}

export const STEP_NAMES = [
  'identity',
  'account',
  'infrastructure',
  'kubernetes',
  'activation',
  'cutover',
  'suspend',
  'export',
  'remove-kubernetes',
  'remove-infrastructure',
  'remove-identity',
  'settle-accounts',
  'close-account',
  'completion',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** The name of the step that starts account creations (the claim query limits those in flight). */
export const ACCOUNT_STEP: StepName = 'account';

/** Onboarding: identity, the account when the tier has its own, the stack, the objects, activation. */
export function onboardingPlan(tier: TierName): StepName[] {
  return ['identity', ...(placementOf(tier).ownAccount ? (['account'] as const) : []), 'infrastructure', 'kubernetes', 'activation'];
}

/**
 * A tier change provisions the new placement, moves the workloads there (the cutover makes it the
 * tenant's tier), then removes what only the old placement used. The tenant is served throughout:
 * the old placement goes only after the new one runs the workloads.
 */
export function tierChangePlan(from: TierName, to: TierName): StepName[] {
  const before = placementOf(from);
  const after = placementOf(to);
  return [
    ...(after.ownAccount && !before.ownAccount ? (['account'] as const) : []),
    'infrastructure',
    'kubernetes',
    'cutover',
    'remove-kubernetes',
    'remove-infrastructure',
    ...(before.ownAccount && !after.ownAccount ? (['close-account'] as const) : []),
  ];
}

/**
 * Offboarding: stop the workloads, export the manifest of the tenant's data, remove its objects,
 * stacks and identity, record the accounts whose creation was in flight when the tenant's workflows
 * were cancelled, close its accounts after the retention period, then OFFBOARDED.
 * `mayHaveAccount`: whether the tenant may have an account of its own (its tier has one, one is
 * recorded, or one of its workflows has an account step: a silo onboarding or a tier change towards
 * silo, possibly stopped halfway with a CreateAccount in flight).
 */
export function offboardingPlan(mayHaveAccount: boolean): StepName[] {
  return ['suspend', 'export', 'remove-kubernetes', 'remove-infrastructure', 'remove-identity', ...(mayHaveAccount ? (['settle-accounts', 'close-account'] as const) : []), 'completion'];
}
