/**
 * Keeps docs/tiers.md in step with the catalog: every table row and worked example in the doc is
 * rendered here from TIERS, PLANS and chooseTier and must appear verbatim. Edit the table, then the doc.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TierPolicyError } from './errors.js';
import { PLANS, PLAN_NAMES } from './plans.js';
import { chooseTier } from './policy.js';
import type { TierRequest } from './policy.js';
import { TIERS, TIER_NAMES } from './tiers.js';
import type { NodeGroupSpec } from './tiers.js';

const doc = readFileSync(new URL('../docs/tiers.md', import.meta.url), 'utf8');

const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
const nodeGroupCell = (group: NodeGroupSpec | null): string =>
  group === null
    ? 'none (shared nodes)'
    : `${group.instanceTypes.join(', ')} (${group.vcpuPerNode} vCPU, ${group.memoryGiBPerNode} GiB); ` +
      `${group.minSize} / ${group.desiredSize} / ${group.maxSize} nodes; ${group.diskSizeGiB} GiB disk; ${group.capacityType}`;

/** Requests of the worked examples in docs/tiers.md, in order. */
const DOC_EXAMPLES: readonly TierRequest[] = [
  { plan: 'premium', requirements: { compliance: ['hipaa'] } },
  { plan: 'enterprise', requirements: { compliance: ['pci'], dataResidency: 'eu-central-1', expectedVcpu: 100 } },
  { plan: 'premium', requirements: { compliance: ['soc2'], expectedVcpu: 4 }, tierOverride: 'pool' },
];
const DOC_ERROR_EXAMPLE: TierRequest = { plan: 'standard', requirements: { compliance: ['pci'] } };

describe('docs/tiers.md', () => {
  it.each(TIER_NAMES)('tier table has the row of %s', (name) => {
    const spec = TIERS[name];
    expect(doc).toContain(
      row([name, spec.isolation, yesNo(spec.dedicatedCapacity), nodeGroupCell(spec.nodeGroup), spec.maxVcpu, spec.compliance.join(', '), yesNo(spec.runsInAnyRegion), spec.baseMonthlyPriceUsd]),
    );
  });

  it.each(TIER_NAMES)('quota table has the row of %s', (name) => {
    const quota = TIERS[name].resourceQuota;
    expect(doc).toContain(
      row([name, quota.requestsCpu, quota.requestsMemory, quota.limitsCpu, quota.limitsMemory, quota.pods, quota.services, quota.persistentVolumeClaims, quota.requestsStorage, quota.servicesLoadBalancers, quota.servicesNodePorts]),
    );
  });

  it.each(TIER_NAMES)('limit range table has the row of %s', (name) => {
    const range = TIERS[name].limitRange;
    const pair = (resources: { cpu: string; memory: string }): string => `${resources.cpu} / ${resources.memory}`;
    expect(doc).toContain(row([name, pair(range.defaultRequest), pair(range.default), pair(range.max)]));
  });

  it.each(PLAN_NAMES)('plan table has the row of %s', (name) => {
    const plan = PLANS[name];
    expect(doc).toContain(row([name, plan.displayName, plan.monthlyPriceUsd, plan.defaultTier, plan.allowedTiers.join(', '), plan.maxUsers, plan.trialDays ?? '-']));
  });

  it.each(DOC_EXAMPLES.map((request, index) => [index + 1, request] as const))('worked example %i shows the current decision', (_index, request) => {
    expect(doc).toContain(JSON.stringify(chooseTier(request), null, 2));
  });

  it('error example shows the current message', () => {
    let message = '';
    try {
      chooseTier(DOC_ERROR_EXAMPLE);
    } catch (error) {
      expect(error).toBeInstanceOf(TierPolicyError);
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    expect(doc).toContain(message);
  });
});
