import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TIER_NAMES } from '../tiers.js';
import { TenantStackInputError } from './errors.js';
import { measureTenantSynthesis, sampleTenantInput } from './measure-synthesis.js';
import { synthesizeTenantStack } from './synthesize.js';
import { tenantInput } from './testing/fixtures.js';

const kept = mkdtempSync(join(tmpdir(), 'tenant-assembly-test-'));
afterAll(() => rmSync(kept, { recursive: true, force: true }));

describe('synthesizeTenantStack', () => {
  it.each(TIER_NAMES)('%s: returns the stack name, the template and the outputs the template has', (tier) => {
    const result = synthesizeTenantStack(tenantInput(tier));
    expect(result.stackName).toBe(`saas-kit-tenant-acme-${tier}`);
    expect(Object.keys(result.template.Resources as object).length).toBeGreaterThan(0);
    expect(Object.keys(result.template.Outputs as object)).toEqual(result.outputsExpected);
  });

  // One test for the three tiers: the schema validator's start-up (seconds) is paid once.
  it("every tier passes CloudFormation's resource schemas when asked to check them", { timeout: 120_000 }, () => {
    for (const tier of TIER_NAMES) {
      expect(() => synthesizeTenantStack({ ...tenantInput(tier), validateTemplate: true }), tier).not.toThrow();
    }
  });

  it('gives the same template for the same input, so a deploy of an unchanged tenant is a no-op', () => {
    expect(synthesizeTenantStack(tenantInput('bridge')).template).toEqual(synthesizeTenantStack(tenantInput('bridge')).template);
  });

  it('keeps the cloud assembly in the directory it is given', () => {
    const outdir = join(kept, 'assembly');
    const { stackName, template } = synthesizeTenantStack({ ...tenantInput('pool'), outdir });
    expect(JSON.parse(readFileSync(join(outdir, `${stackName}.template.json`), 'utf8'))).toEqual(template);
  });

  it('removes its temporary assembly directory', () => {
    const before = new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('saas-kit-tenant-')));
    synthesizeTenantStack(tenantInput('pool'));
    const after = readdirSync(tmpdir()).filter((name) => name.startsWith('saas-kit-tenant-') && !before.has(name));
    expect(after).toEqual([]);
  });

  it('rejects bad input with a TenantStackInputError before any synthesis', () => {
    expect(() => synthesizeTenantStack({ ...tenantInput('bridge'), sharedCluster: undefined })).toThrow(TenantStackInputError);
    expect(() => synthesizeTenantStack(null as never)).toThrow(/input: must be an object/);
    expect(() => synthesizeTenantStack({ ...tenantInput('pool'), outdir: '' })).toThrow(/outdir: must be a directory path/);
  });
});

describe('measureTenantSynthesis', () => {
  it('measures a bridge stack of the sample platform', () => {
    const measurement = measureTenantSynthesis('bridge');
    expect(measurement.resources).toBe(4);
    expect(measurement.ms).toBeGreaterThan(0);
    expect(measurement.peakRssBytes).toBeGreaterThan(0);
  });

  it.each(TIER_NAMES)('%s: the sample input is valid', (tier) => {
    expect(synthesizeTenantStack(sampleTenantInput(tier)).stackName).toBe(`saas-kit-tenant-sample-${tier}`);
    expect(existsSync(kept)).toBe(true);
  });
});
