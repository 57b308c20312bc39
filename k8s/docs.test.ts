/**
 * Keeps docs/k8s.md in step with the admission rules: every rule's row is rendered here from the
 * code and must appear verbatim, and the doc lists no rule the code does not ship.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TIERS, TIER_NAMES } from '../tenant-tiers/index.js';
import { admissionRules, SERVICE_ADMISSION_RULES } from './admission-policy.js';
import type { AdmissionRule } from './admission-policy.js';

const doc = readFileSync(new URL('../docs/k8s.md', import.meta.url), 'utf8');
const TENANT = '<tenant>';

function rulesOf(dedicatedNodes: boolean): readonly AdmissionRule[] {
  return admissionRules({ tenantName: TENANT, dedicatedNodes });
}

/** Tiers whose tenants get `rule`, asked of the table. */
function tiersWith(rule: AdmissionRule): string {
  return TIER_NAMES.filter((tier) => rulesOf(TIERS[tier].nodeGroup !== null).some((r) => r.id === rule.id)).join(', ');
}

const rows = [
  ...rulesOf(true).map((rule) => ({ rule, object: 'Pod', tiers: tiersWith(rule) })),
  ...SERVICE_ADMISSION_RULES.map((rule) => ({ rule, object: 'Service', tiers: TIER_NAMES.join(', ') })),
];

describe('docs/k8s.md', () => {
  it.each(rows.map((r) => [r.rule.id, r] as const))('has the row of rule %s', (_, { rule, object, tiers }) => {
    expect(doc).toContain(`| \`${rule.id}\` | ${object} | ${tiers} | ${rule.message.slice(rule.id.length + 2)} |`);
  });

  it('lists no rule the code does not ship', () => {
    const documented = [...doc.matchAll(/^\| `([a-z-]+)` \| (?:Pod|Service) \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(rows.map((r) => r.rule.id).sort());
  });
});
