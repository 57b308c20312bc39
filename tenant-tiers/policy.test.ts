import { describe, expect, it } from 'vitest';
import { TenantTiersError, TierPolicyError } from './errors.js';
import type { TierPolicyErrorCode } from './errors.js';
import { PLANS } from './plans.js';
import { chooseTier } from './policy.js';
import type { TierPolicyContext, TierRequest } from './policy.js';
import { TIERS } from './tiers.js';
import type { TierName } from './tiers.js';

/** Requests arrive as JSON; rows with wrong types go through this cast, on purpose. */
const untyped = (request: unknown): TierRequest => request as TierRequest;

interface DecisionRow {
  readonly name: string;
  readonly request: TierRequest;
  readonly context?: TierPolicyContext;
  readonly tier: TierName;
  readonly monthlyEstimateUsd: number;
  readonly overridden?: boolean;
  /** Each pattern must match one of the reasons. */
  readonly reasons: readonly RegExp[];
}

const decisions: readonly DecisionRow[] = [
  // Plan defaults.
  { name: 'trial defaults to pool', request: { plan: 'trial' }, tier: 'pool', monthlyEstimateUsd: 20, reasons: [/^plan trial defaults to pool$/] },
  { name: 'standard defaults to pool', request: { plan: 'standard', requirements: {} }, tier: 'pool', monthlyEstimateUsd: 319, reasons: [/plan standard defaults to pool/] },
  { name: 'premium defaults to bridge', request: { plan: 'premium' }, tier: 'bridge', monthlyEstimateUsd: 1349, reasons: [/plan premium defaults to bridge/] },
  { name: 'enterprise defaults to bridge', request: { plan: 'enterprise' }, tier: 'bridge', monthlyEstimateUsd: 5349, reasons: [/plan enterprise defaults to bridge/] },
  // Compliance.
  { name: 'soc2 is met by pool', request: { plan: 'basic', requirements: { compliance: ['soc2'] } }, tier: 'pool', monthlyEstimateUsd: 69, reasons: [/compliance soc2 .*: pool/] },
  { name: 'hipaa raises standard to bridge', request: { plan: 'standard', requirements: { compliance: ['hipaa'] } }, tier: 'bridge', monthlyEstimateUsd: 649, reasons: [/plan standard defaults to pool/, /compliance hipaa requires dedicated compute .*: bridge/] },
  { name: 'hipaa on premium stays on bridge', request: { plan: 'premium', requirements: { compliance: ['hipaa'] } }, tier: 'bridge', monthlyEstimateUsd: 1349, reasons: [/plan premium defaults to bridge/, /hipaa .*: bridge/] },
  { name: 'pci raises enterprise to silo', request: { plan: 'enterprise', requirements: { compliance: ['pci'] } }, tier: 'silo', monthlyEstimateUsd: 6999, reasons: [/compliance pci requires account-level segmentation of the cardholder data environment: silo/] },
  { name: 'duplicate regimes give one reason each', request: { plan: 'standard', requirements: { compliance: ['hipaa', 'hipaa'] } }, tier: 'bridge', monthlyEstimateUsd: 649, reasons: [/hipaa/] },
  // Data residency.
  { name: 'residency in the shared region keeps pool', request: { plan: 'standard', requirements: { dataResidency: 'us-east-1' } }, tier: 'pool', monthlyEstimateUsd: 319, reasons: [/dataResidency us-east-1 is the shared cluster's region/] },
  { name: 'residency elsewhere needs silo', request: { plan: 'enterprise', requirements: { dataResidency: 'eu-central-1' } }, tier: 'silo', monthlyEstimateUsd: 6999, reasons: [/dataResidency eu-central-1 is outside the shared cluster's region us-east-1.*: silo/] },
  { name: 'residency follows the configured shared region', request: { plan: 'enterprise', requirements: { dataResidency: 'eu-central-1' } }, context: { sharedRegion: 'eu-central-1' }, tier: 'bridge', monthlyEstimateUsd: 5349, reasons: [/eu-central-1 is the shared cluster's region/] },
  { name: 'a gov region is a valid region', request: { plan: 'enterprise', requirements: { dataResidency: 'us-gov-west-1' } }, tier: 'silo', monthlyEstimateUsd: 6999, reasons: [/us-gov-west-1 is outside/] },
  // Expected vCPU, at the boundaries.
  { name: '0 vCPU fits pool', request: { plan: 'standard', requirements: { expectedVcpu: 0 } }, tier: 'pool', monthlyEstimateUsd: 319, reasons: [/expectedVcpu 0 fits pool/] },
  { name: '8 vCPU still fits pool', request: { plan: 'standard', requirements: { expectedVcpu: 8 } }, tier: 'pool', monthlyEstimateUsd: 319, reasons: [/expectedVcpu 8 fits pool \(up to 8 vCPU\)/] },
  { name: '8.5 vCPU needs bridge', request: { plan: 'standard', requirements: { expectedVcpu: 8.5 } }, tier: 'bridge', monthlyEstimateUsd: 649, reasons: [/expectedVcpu 8.5 exceeds pool \(8 vCPU\) and fits bridge \(up to 64 vCPU\)/] },
  { name: '65 vCPU needs silo', request: { plan: 'enterprise', requirements: { expectedVcpu: 65 } }, tier: 'silo', monthlyEstimateUsd: 6999, reasons: [/expectedVcpu 65 exceeds bridge \(64 vCPU\) and fits silo/] },
  { name: '512 vCPU still fits silo', request: { plan: 'enterprise', requirements: { expectedVcpu: 512 } }, tier: 'silo', monthlyEstimateUsd: 6999, reasons: [/expectedVcpu 512 .*fits silo/] },
  // Dedicated capacity.
  { name: 'dedicated capacity needs bridge', request: { plan: 'standard', requirements: { dedicatedCapacity: true } }, tier: 'bridge', monthlyEstimateUsd: 649, reasons: [/dedicatedCapacity requires .*: bridge/] },
  { name: 'dedicatedCapacity false asks nothing', request: { plan: 'standard', requirements: { dedicatedCapacity: false } }, tier: 'pool', monthlyEstimateUsd: 319, reasons: [/plan standard defaults to pool/] },
  // Everything at once: the strictest wins, every requirement is explained.
  {
    name: 'all requirements together',
    request: { plan: 'enterprise', requirements: { compliance: ['soc2', 'hipaa', 'pci'], dataResidency: 'eu-west-1', expectedVcpu: 100, dedicatedCapacity: true } },
    tier: 'silo',
    monthlyEstimateUsd: 6999,
    reasons: [/plan enterprise/, /soc2/, /hipaa .*: bridge/, /pci .*: silo/, /eu-west-1 .*: silo/, /expectedVcpu 100 .*silo/, /dedicatedCapacity .*: bridge/],
  },
  // Overrides.
  { name: 'override up: enterprise to silo', request: { plan: 'enterprise', tierOverride: 'silo' }, tier: 'silo', monthlyEstimateUsd: 6999, overridden: true, reasons: [/plan enterprise defaults to bridge/, /tierOverride silo replaces the policy's choice of bridge/] },
  { name: 'override up: standard to bridge', request: { plan: 'standard', tierOverride: 'bridge' }, tier: 'bridge', monthlyEstimateUsd: 649, overridden: true, reasons: [/tierOverride bridge replaces the policy's choice of pool/] },
  { name: 'override up past hipaa', request: { plan: 'enterprise', requirements: { compliance: ['hipaa'] }, tierOverride: 'silo' }, tier: 'silo', monthlyEstimateUsd: 6999, overridden: true, reasons: [/hipaa .*: bridge/, /tierOverride silo replaces/] },
  { name: 'override down: premium below its default', request: { plan: 'premium', tierOverride: 'pool' }, tier: 'pool', monthlyEstimateUsd: 1019, overridden: true, reasons: [/plan premium defaults to bridge/, /tierOverride pool replaces the policy's choice of bridge/] },
  { name: 'override down as far as the requirements allow', request: { plan: 'enterprise', requirements: { compliance: ['soc2'], dataResidency: 'us-east-1', expectedVcpu: 8 }, tierOverride: 'pool' }, tier: 'pool', monthlyEstimateUsd: 5019, overridden: true, reasons: [/tierOverride pool replaces the policy's choice of bridge/] },
  { name: 'override pins a requirement-driven silo', request: { plan: 'enterprise', requirements: { compliance: ['hipaa'], expectedVcpu: 100 }, tierOverride: 'silo' }, tier: 'silo', monthlyEstimateUsd: 6999, overridden: true, reasons: [/tierOverride silo pins the tier the policy chose/] },
  { name: 'override to the chosen tier pins it', request: { plan: 'premium', requirements: { compliance: ['hipaa'] }, tierOverride: 'bridge' }, tier: 'bridge', monthlyEstimateUsd: 1349, overridden: true, reasons: [/tierOverride bridge pins the tier the policy chose/] },
];

interface ErrorRow {
  readonly name: string;
  readonly request: TierRequest;
  readonly code: TierPolicyErrorCode;
  readonly field: string;
  /** Must match the message: the received value and the fix. */
  readonly message: RegExp;
}

const errors: readonly ErrorRow[] = [
  // unknown-plan
  { name: 'unknown plan', request: { plan: 'gold' }, code: 'unknown-plan', field: 'plan', message: /plan "gold" is not a plan; use one of trial, basic, standard, premium, enterprise/ },
  { name: 'plan names are case-sensitive', request: { plan: 'Premium' }, code: 'unknown-plan', field: 'plan', message: /"Premium"/ },
  { name: 'plan that is not a string', request: untyped({ plan: 42 }), code: 'unknown-plan', field: 'plan', message: /plan 42 is not a plan/ },
  { name: 'plan is checked before requirements', request: untyped({ plan: 'gold', requirements: { expectedVcpu: -1 } }), code: 'unknown-plan', field: 'plan', message: /gold/ },
  // invalid-requirement
  { name: 'unknown compliance regime', request: untyped({ plan: 'enterprise', requirements: { compliance: ['gdpr'] } }), code: 'invalid-requirement', field: 'requirements.compliance', message: /received \["gdpr"\]; send a list of soc2, hipaa, pci/ },
  { name: 'compliance not a list', request: untyped({ plan: 'enterprise', requirements: { compliance: 'pci' } }), code: 'invalid-requirement', field: 'requirements.compliance', message: /received "pci"/ },
  { name: 'region name instead of code', request: { plan: 'enterprise', requirements: { dataResidency: 'Frankfurt' } }, code: 'invalid-requirement', field: 'requirements.dataResidency', message: /received "Frankfurt"; send an AWS region code such as 'eu-central-1'/ },
  { name: 'region without its number', request: { plan: 'enterprise', requirements: { dataResidency: 'eu-central' } }, code: 'invalid-requirement', field: 'requirements.dataResidency', message: /"eu-central"/ },
  { name: 'negative vCPU', request: { plan: 'standard', requirements: { expectedVcpu: -1 } }, code: 'invalid-requirement', field: 'requirements.expectedVcpu', message: /received -1; send the peak vCPU as a finite number >= 0/ },
  { name: 'NaN vCPU', request: { plan: 'standard', requirements: { expectedVcpu: Number.NaN } }, code: 'invalid-requirement', field: 'requirements.expectedVcpu', message: /received NaN/ },
  { name: 'infinite vCPU', request: { plan: 'standard', requirements: { expectedVcpu: Number.POSITIVE_INFINITY } }, code: 'invalid-requirement', field: 'requirements.expectedVcpu', message: /received Infinity/ },
  { name: 'vCPU as a string', request: untyped({ plan: 'standard', requirements: { expectedVcpu: '16' } }), code: 'invalid-requirement', field: 'requirements.expectedVcpu', message: /received "16"/ },
  { name: 'dedicatedCapacity not a boolean', request: untyped({ plan: 'standard', requirements: { dedicatedCapacity: 'yes' } }), code: 'invalid-requirement', field: 'requirements.dedicatedCapacity', message: /received "yes"; send true or false/ },
  { name: 'requirements not an object', request: untyped({ plan: 'standard', requirements: null }), code: 'invalid-requirement', field: 'requirements', message: /received null/ },
  { name: 'misspelt requirement', request: untyped({ plan: 'standard', requirements: { complience: ['pci'] } }), code: 'invalid-requirement', field: 'requirements.complience', message: /is not a known requirement, received \["pci"\]; remove it or fix its spelling/ },
  // requirements-unsatisfiable
  { name: 'hipaa on trial', request: { plan: 'trial', requirements: { compliance: ['hipaa'] } }, code: 'requirements-unsatisfiable', field: 'requirements.compliance', message: /hipaa .*: bridge, but plan trial allows only pool; choose plan standard or higher/ },
  { name: 'pci on standard', request: { plan: 'standard', requirements: { compliance: ['pci'] } }, code: 'requirements-unsatisfiable', field: 'requirements.compliance', message: /pci .*: silo, but plan standard allows only pool, bridge; choose plan enterprise or higher/ },
  { name: 'dedicated capacity on basic', request: { plan: 'basic', requirements: { dedicatedCapacity: true } }, code: 'requirements-unsatisfiable', field: 'requirements.dedicatedCapacity', message: /choose plan standard or higher, or drop requirements.dedicatedCapacity/ },
  { name: 'residency outside the shared region on premium', request: { plan: 'premium', requirements: { dataResidency: 'eu-central-1' } }, code: 'requirements-unsatisfiable', field: 'requirements.dataResidency', message: /eu-central-1 .*choose plan enterprise/ },
  { name: '9 vCPU on basic', request: { plan: 'basic', requirements: { expectedVcpu: 9 } }, code: 'requirements-unsatisfiable', field: 'requirements.expectedVcpu', message: /expectedVcpu 9 .*choose plan standard/ },
  { name: 'the strictest requirement is named', request: { plan: 'standard', requirements: { dedicatedCapacity: true, compliance: ['pci'] } }, code: 'requirements-unsatisfiable', field: 'requirements.compliance', message: /pci/ },
  { name: 'more vCPU than any tier', request: { plan: 'enterprise', requirements: { expectedVcpu: 513 } }, code: 'requirements-unsatisfiable', field: 'requirements.expectedVcpu', message: /expectedVcpu 513 exceeds the largest tier, silo, which serves up to 512 vCPU/ },
  { name: 'requirements are checked before the override', request: { plan: 'standard', requirements: { compliance: ['pci'] }, tierOverride: 'bridge' }, code: 'requirements-unsatisfiable', field: 'requirements.compliance', message: /enterprise/ },
  // unknown-tier
  { name: 'unknown override', request: { plan: 'enterprise', tierOverride: 'gold' }, code: 'unknown-tier', field: 'tierOverride', message: /tierOverride "gold" is not a tier; use one of pool, bridge, silo/ },
  { name: 'tier names are case-sensitive', request: { plan: 'enterprise', tierOverride: 'Silo' }, code: 'unknown-tier', field: 'tierOverride', message: /"Silo"/ },
  // override-not-allowed
  { name: 'override above the plan', request: { plan: 'premium', tierOverride: 'silo' }, code: 'override-not-allowed', field: 'tierOverride', message: /tierOverride silo is not allowed by plan premium, which allows pool, bridge; choose plan enterprise/ },
  { name: 'override above the trial', request: { plan: 'trial', tierOverride: 'bridge' }, code: 'override-not-allowed', field: 'tierOverride', message: /choose plan standard/ },
  { name: 'override below pci', request: { plan: 'enterprise', requirements: { compliance: ['pci'] }, tierOverride: 'bridge' }, code: 'override-not-allowed', field: 'tierOverride', message: /tierOverride bridge is below what requirements.compliance needs .*override to silo/ },
  { name: 'override below hipaa', request: { plan: 'standard', requirements: { compliance: ['hipaa'] }, tierOverride: 'pool' }, code: 'override-not-allowed', field: 'tierOverride', message: /tierOverride pool is below what requirements.compliance needs/ },
  { name: 'override below residency', request: { plan: 'enterprise', requirements: { dataResidency: 'ap-southeast-2' }, tierOverride: 'bridge' }, code: 'override-not-allowed', field: 'tierOverride', message: /requirements.dataResidency/ },
  { name: 'override below vCPU', request: { plan: 'enterprise', requirements: { expectedVcpu: 100 }, tierOverride: 'bridge' }, code: 'override-not-allowed', field: 'tierOverride', message: /requirements.expectedVcpu/ },
  { name: 'override below dedicated capacity', request: { plan: 'premium', requirements: { dedicatedCapacity: true }, tierOverride: 'pool' }, code: 'override-not-allowed', field: 'tierOverride', message: /requirements.dedicatedCapacity/ },
];

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('chooseTier decisions', () => {
  it.each(decisions)('$name', ({ request, context, tier, monthlyEstimateUsd, overridden = false, reasons }) => {
    const decision = chooseTier(request, context);
    expect(decision.tier).toBe(tier);
    expect(decision.plan).toBe(request.plan);
    expect(decision.monthlyEstimateUsd).toBe(monthlyEstimateUsd);
    expect(decision.overridden).toBe(overridden);
    for (const pattern of reasons) {
      expect(decision.reasons.some((reason) => pattern.test(reason)), `${String(pattern)} in ${JSON.stringify(decision.reasons)}`).toBe(true);
    }
  });

  it.each(decisions)('$name: reasons explain the plan, each requirement and the tier', ({ request, context }) => {
    const decision = chooseTier(request, context);
    expect(decision.reasons[0]).toBe(`plan ${decision.plan} defaults to ${PLANS[decision.plan].defaultTier}`);
    const all = decision.reasons.join('\n');
    const { compliance = [], dataResidency, expectedVcpu, dedicatedCapacity } = request.requirements ?? {};
    for (const regime of compliance) expect(all).toContain(`compliance ${regime}`);
    if (dataResidency !== undefined) expect(all).toContain(`dataResidency ${dataResidency}`);
    if (expectedVcpu !== undefined) expect(all).toContain(`expectedVcpu ${expectedVcpu}`);
    if (dedicatedCapacity === true) expect(all).toContain('dedicatedCapacity');
    if (request.tierOverride !== undefined) expect(decision.reasons.at(-1)).toContain(`tierOverride ${request.tierOverride}`);
    expect(all).toContain(decision.tier);
  });

  it.each(decisions)('$name: estimate is plan price + tier base price', ({ request, context }) => {
    const decision = chooseTier(request, context);
    expect(decision.monthlyEstimateUsd).toBe(PLANS[decision.plan].monthlyPriceUsd + TIERS[decision.tier].baseMonthlyPriceUsd);
  });
});

describe('chooseTier errors', () => {
  it.each(errors)('$name -> $code at $field', ({ request, code, field, message }) => {
    const error = catchError(() => chooseTier(request));
    expect(error).toBeInstanceOf(TierPolicyError);
    expect(error).toBeInstanceOf(TenantTiersError);
    expect(error).toMatchObject({ name: 'TierPolicyError', code, field });
    expect((error as Error).message).toMatch(message);
  });

  it('covers every error code', () => {
    const codes: readonly TierPolicyErrorCode[] = ['unknown-plan', 'unknown-tier', 'invalid-requirement', 'requirements-unsatisfiable', 'override-not-allowed'];
    expect(new Set(errors.map((row) => row.code))).toEqual(new Set(codes));
  });

  it('rejects a malformed shared region as a configuration error, not a request error', () => {
    const error = catchError(() => chooseTier({ plan: 'basic' }, { sharedRegion: 'virginia' }));
    expect(error).toBeInstanceOf(TenantTiersError);
    expect(error).not.toBeInstanceOf(TierPolicyError);
    expect((error as Error).message).toMatch(/context.sharedRegion .*received "virginia"/);
  });
});

describe('chooseTier purity', () => {
  it('returns equal decisions for equal requests and leaves the request untouched', () => {
    const request: TierRequest = Object.freeze({
      plan: 'enterprise',
      requirements: Object.freeze({ compliance: Object.freeze(['hipaa', 'pci'] as const), expectedVcpu: 32 }),
    });
    const snapshot = JSON.stringify(request);
    expect(chooseTier(request)).toEqual(chooseTier(request));
    expect(JSON.stringify(request)).toBe(snapshot);
  });

  it('gives each decision its own reasons list', () => {
    const first = chooseTier({ plan: 'premium' });
    const second = chooseTier({ plan: 'premium' });
    expect(first.reasons).not.toBe(second.reasons);
  });
});

describe('errors', () => {
  it('keep their cause and name', () => {
    const cause = new Error('root');
    const base = new TenantTiersError('outer', { cause });
    expect(base).toMatchObject({ name: 'TenantTiersError', message: 'outer', cause });
    const policy = new TierPolicyError('unknown-plan', 'plan', 'bad plan', { cause });
    expect(policy).toMatchObject({ name: 'TierPolicyError', code: 'unknown-plan', field: 'plan', cause });
  });
});
