import { describe, expect, it } from 'vitest';
import { PLANS, PLAN_NAMES, cheapestPlanAllowing, isPlanName } from './plans.js';
import { COMPLIANCE_REGIMES, ISOLATION_LEVELS, TIERS, TIER_NAMES, compareTiers, isTierName, tierRank } from './tiers.js';

/** Parses the Kubernetes quantities the catalog uses: plain or milli CPU, binary-suffixed bytes. */
function quantity(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$/.exec(value);
  if (match === null) throw new Error(`not a quantity this test understands: ${value}`);
  const scale = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 } as const;
  const suffix = match[2] as keyof typeof scale | undefined;
  return Number(match[1]) * (suffix === undefined ? 1 : scale[suffix]);
}
const GiB = 2 ** 30;

/** Each tier paired with the one just below it (pool has none). */
const tiersAbovePool = TIER_NAMES.slice(1).map((name) => [name, TIER_NAMES[tierRank(name) - 1]] as const);

describe('quantity (test helper)', () => {
  it.each([
    ['250m', 0.25],
    ['4', 4],
    ['512Mi', 512 * 2 ** 20],
    ['1Ti', 1024 * GiB],
  ])('parses %s', (text, expected) => {
    expect(quantity(text)).toBe(expected);
  });
});

describe('TIERS', () => {
  it('lists the tiers from least to most isolated', () => {
    expect(TIER_NAMES).toEqual(['pool', 'bridge', 'silo']);
    expect(Object.keys(TIERS)).toEqual([...TIER_NAMES]);
    expect([...TIER_NAMES].reverse().sort(compareTiers)).toEqual(['pool', 'bridge', 'silo']);
    expect(isTierName('bridge')).toBe(true);
    expect(isTierName('gold')).toBe(false);
  });

  it.each(TIER_NAMES)('%s: is keyed by its own name', (name) => {
    expect(TIERS[name].name).toBe(name);
    expect(TIERS[name].displayName.toLowerCase()).toBe(name);
    expect(TIERS[name].description).not.toMatch(/\n/);
  });

  it.each(TIER_NAMES)('%s: isolation level matches its rank', (name) => {
    expect(ISOLATION_LEVELS.indexOf(TIERS[name].isolation)).toBe(tierRank(name));
  });

  it.each(TIER_NAMES)('%s: allows no LoadBalancer and no NodePort services', (name) => {
    expect(TIERS[name].resourceQuota.servicesLoadBalancers).toBe(0);
    expect(TIERS[name].resourceQuota.servicesNodePorts).toBe(0);
  });

  it.each(TIER_NAMES)('%s: has a node group exactly when it is not namespace-isolated', (name) => {
    const spec = TIERS[name];
    expect(spec.nodeGroup === null).toBe(spec.isolation === 'namespace');
    expect(spec.dedicatedCapacity).toBe(spec.nodeGroup !== null);
  });

  it.each(TIER_NAMES)('%s: maxVcpu equals limits.cpu and the node group capacity', (name) => {
    const { maxVcpu, resourceQuota, nodeGroup } = TIERS[name];
    expect(quantity(resourceQuota.limitsCpu)).toBe(maxVcpu);
    if (nodeGroup !== null) {
      expect(nodeGroup.maxSize * nodeGroup.vcpuPerNode).toBe(maxVcpu);
      expect(quantity(resourceQuota.limitsMemory)).toBeLessThanOrEqual(nodeGroup.maxSize * nodeGroup.memoryGiBPerNode * GiB);
    }
  });

  it.each(TIER_NAMES)('%s: node group sizes are ordered and on demand', (name) => {
    const nodeGroup = TIERS[name].nodeGroup;
    if (nodeGroup === null) return;
    expect(nodeGroup.minSize).toBeGreaterThanOrEqual(1);
    expect(nodeGroup.minSize).toBeLessThanOrEqual(nodeGroup.desiredSize);
    expect(nodeGroup.desiredSize).toBeLessThanOrEqual(nodeGroup.maxSize);
    expect(nodeGroup.instanceTypes.length).toBeGreaterThanOrEqual(2);
    expect(nodeGroup.capacityType).toBe('ON_DEMAND');
  });

  it.each(TIER_NAMES)('%s: requests fit within limits, LimitRange defaults within max, max within one node', (name) => {
    const { resourceQuota: quota, limitRange: range, nodeGroup } = TIERS[name];
    expect(quantity(quota.requestsCpu)).toBeLessThanOrEqual(quantity(quota.limitsCpu));
    expect(quantity(quota.requestsMemory)).toBeLessThanOrEqual(quantity(quota.limitsMemory));
    for (const resource of ['cpu', 'memory'] as const) {
      expect(quantity(range.defaultRequest[resource])).toBeLessThanOrEqual(quantity(range.default[resource]));
      expect(quantity(range.default[resource])).toBeLessThanOrEqual(quantity(range.max[resource]));
    }
    expect(quantity(range.max.cpu)).toBeLessThanOrEqual(quantity(quota.limitsCpu));
    if (nodeGroup !== null) {
      expect(quantity(range.max.cpu)).toBeLessThan(nodeGroup.vcpuPerNode);
      expect(quantity(range.max.memory)).toBeLessThan(nodeGroup.memoryGiBPerNode * GiB);
    }
  });

  it.each(TIER_NAMES)('%s: prices are non-negative whole dollars', (name) => {
    expect(TIERS[name].baseMonthlyPriceUsd).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(TIERS[name].baseMonthlyPriceUsd)).toBe(true);
  });

  it.each(tiersAbovePool)('%s: grows every quota, limit, capacity and price of %s', (name, below) => {
    const upper = TIERS[name];
    const lower = TIERS[below];
    const quotaKeys = ['requestsCpu', 'requestsMemory', 'limitsCpu', 'limitsMemory', 'pods', 'services', 'persistentVolumeClaims', 'requestsStorage'] as const;
    for (const key of quotaKeys) {
      expect(quantity(upper.resourceQuota[key]), key).toBeGreaterThan(quantity(lower.resourceQuota[key]));
    }
    for (const resource of ['cpu', 'memory'] as const) {
      expect(quantity(upper.limitRange.max[resource]), `max.${resource}`).toBeGreaterThan(quantity(lower.limitRange.max[resource]));
    }
    expect(upper.maxVcpu).toBeGreaterThan(lower.maxVcpu);
    expect(upper.baseMonthlyPriceUsd).toBeGreaterThan(lower.baseMonthlyPriceUsd);
    // A more isolated tier never loses a guarantee.
    expect(lower.compliance.every((regime) => upper.compliance.includes(regime))).toBe(true);
    expect(upper.dedicatedCapacity || !lower.dedicatedCapacity).toBe(true);
    expect(upper.runsInAnyRegion || !lower.runsInAnyRegion).toBe(true);
  });

  it('encodes the compliance rationale: soc2 everywhere, hipaa from bridge, pci only in silo', () => {
    expect(COMPLIANCE_REGIMES).toEqual(['soc2', 'hipaa', 'pci']);
    expect(TIERS.pool.compliance).toEqual(['soc2']);
    expect(TIERS.bridge.compliance).toEqual(['soc2', 'hipaa']);
    expect(TIERS.silo.compliance).toEqual(['soc2', 'hipaa', 'pci']);
  });

  it('places only silo outside the shared region', () => {
    expect(TIER_NAMES.filter((name) => TIERS[name].runsInAnyRegion)).toEqual(['silo']);
  });

  it('has the published numbers', () => {
    expect(TIER_NAMES.map((name) => [TIERS[name].maxVcpu, TIERS[name].baseMonthlyPriceUsd])).toEqual([
      [8, 20],
      [64, 350],
      [512, 2000],
    ]);
  });
});

describe('PLANS', () => {
  it('lists the plans from cheapest to most expensive', () => {
    expect(Object.keys(PLANS)).toEqual([...PLAN_NAMES]);
    const prices = PLAN_NAMES.map((name) => PLANS[name].monthlyPriceUsd);
    expect(prices).toEqual([0, 49, 299, 999, 4999]);
    expect(isPlanName('premium')).toBe(true);
    expect(isPlanName('gold')).toBe(false);
  });

  it.each(PLAN_NAMES)('%s: is keyed by its own name and allows its default tier', (name) => {
    const plan = PLANS[name];
    expect(plan.name).toBe(name);
    expect(plan.allowedTiers).toContain(plan.defaultTier);
    expect(plan.maxUsers).toBeGreaterThan(0);
  });

  it.each(PLAN_NAMES)('%s: allowed tiers are a contiguous run from pool, least isolated first', (name) => {
    const allowed = PLANS[name].allowedTiers;
    expect(allowed).toEqual(TIER_NAMES.slice(0, allowed.length));
  });

  it.each(PLAN_NAMES)('%s: only the trial is free and only the trial has trial days', (name) => {
    const plan = PLANS[name];
    expect(plan.monthlyPriceUsd === 0).toBe(name === 'trial');
    expect(plan.trialDays === null).toBe(name !== 'trial');
  });

  it.each(PLAN_NAMES.slice(1))('%s: allows at least what the cheaper plans allow', (name) => {
    const cheaper = PLANS[PLAN_NAMES[PLAN_NAMES.indexOf(name) - 1] ?? 'trial'];
    expect(PLANS[name].allowedTiers.length).toBeGreaterThanOrEqual(cheaper.allowedTiers.length);
    expect(tierRank(PLANS[name].defaultTier)).toBeGreaterThanOrEqual(tierRank(cheaper.defaultTier));
    expect(PLANS[name].maxUsers).toBeGreaterThan(cheaper.maxUsers);
  });

  it.each([
    ['pool', 'trial'],
    ['bridge', 'standard'],
    ['silo', 'enterprise'],
  ] as const)('the cheapest plan allowing %s is %s', (tier, plan) => {
    expect(cheapestPlanAllowing(tier)).toBe(plan);
  });
});
