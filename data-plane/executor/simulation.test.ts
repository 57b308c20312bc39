import { describe, expect, it } from 'vitest';
import { TIER_NAMES } from '../../tenant-tiers/index.js';
import { memoryPerVcpuBytes, planJob } from './simulation.js';

const GiB = 1024 ** 3;

describe('the job model', () => {
  it('gives a full job on 1 GiB and 4 vCPU the figures worked out by hand', () => {
    const plans = planJob({ steps: ['load', 'transform', 'process', 'persist'], inputBytes: GiB, requestedVcpu: 4, tier: 'pool' });
    // load: 2 s start + 1 GiB / (256 MiB/s x 4) = 3000 ms at 30% of 4 vCPU; transform: 2 s + 4 s at 90%;
    // process: 0.8 GiB / (32 MiB/s x 4) = 6.4 s, at 100%; persist: 0.4 GiB / (128 MiB/s x 4) = 0.8 s (rounded up), at 40%.
    expect(plans.map((p) => [p.step, p.usage.durationMs, p.usage.vcpuMs, p.failure])).toEqual([
      ['load', 3000, 3600, null],
      ['transform', 6000, 21_600, null],
      ['process', 8400, 33_600, null],
      ['persist', 2801, 4482, null],
    ]);
    expect(plans[0]?.usage.bytesRead).toBe(GiB);
    expect(plans[3]?.usage.bytesWritten).toBe(429_496_730);
  });

  it.each(TIER_NAMES)('fails process on %s when the working set per vCPU outgrows the tier\'s memory per vCPU', (tier) => {
    expect(memoryPerVcpuBytes(tier)).toBe(4 * GiB);
    const plans = planJob({ steps: ['load', 'process', 'persist'], inputBytes: 100 * GiB, requestedVcpu: 8, tier });
    expect(plans.map((p) => p.step)).toEqual(['load', 'process']);
    expect(plans[1]?.failure).toMatch(/12\.5 GiB per vCPU .* request at least 25 vCPU/);
    expect(planJob({ steps: ['load', 'process', 'persist'], inputBytes: 100 * GiB, requestedVcpu: 25, tier }).every((p) => p.failure === null)).toBe(true);
  });

  it('scales duration down and vCPU time not at all with more vCPU (same work, same utilisation) beyond start-up', () => {
    const [two] = planJob({ steps: ['transform'], inputBytes: 8 * GiB, requestedVcpu: 2, tier: 'bridge' });
    const [eight] = planJob({ steps: ['transform'], inputBytes: 8 * GiB, requestedVcpu: 8, tier: 'bridge' });
    expect(two?.usage.durationMs).toBe(2000 + 64_000);
    expect(eight?.usage.durationMs).toBe(2000 + 16_000);
    // Only the 2 s start-up costs more vCPU time on more vCPUs.
    expect((eight?.usage.vcpuMs ?? 0) - (two?.usage.vcpuMs ?? 0)).toBe(Math.round(2000 * 0.9 * 6));
  });
});
