/**
 * How long each step of a job takes and what it uses, from the job spec alone (input size, vCPU, tier):
 * the executor runs this model instead of real data processing, so load tests and demos see the durations,
 * vCPU-seconds and bytes a platform of this shape would report.
 */
import { TIERS, type TierName } from '../../tenant-tiers/index.js';
import type { JobStep } from '../events/data/job.js';
import type { JobUsage } from '../jobs/model.js';

export interface StepProfile {
  /** Bytes one vCPU gets through per second. */
  readonly bytesPerVcpuSecond: number;
  /** Share of the requested vCPUs the step keeps busy (I/O-bound steps wait on the network). */
  readonly cpuUtilization: number;
  /** Bytes out per byte in. */
  readonly outputRatio: number;
  /** Whether the step holds its whole input in memory (a join or an aggregation): it fails when that does not fit. */
  readonly inMemory: boolean;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The model's figures, one row per step (throughputs of a columnar engine on m6i-class vCPUs). */
export const STEP_PROFILES: Readonly<Record<JobStep, StepProfile>> = {
  load: { bytesPerVcpuSecond: 256 * MiB, cpuUtilization: 0.3, outputRatio: 1, inMemory: false },
  transform: { bytesPerVcpuSecond: 64 * MiB, cpuUtilization: 0.9, outputRatio: 0.8, inMemory: false },
  process: { bytesPerVcpuSecond: 32 * MiB, cpuUtilization: 1, outputRatio: 0.5, inMemory: true },
  persist: { bytesPerVcpuSecond: 128 * MiB, cpuUtilization: 0.4, outputRatio: 1, inMemory: false },
};

/** Scheduling a step's pod and starting its container, before any byte moves. */
export const STEP_STARTUP_MS = 2000;

export interface StepPlan {
  readonly step: JobStep;
  /** What the step uses when it runs to its end (or, for a failing step, until it fails). */
  readonly usage: JobUsage;
  /** Why the step fails, or null when it succeeds. */
  readonly failure: string | null;
}

export interface JobSpec {
  readonly steps: readonly JobStep[];
  readonly inputBytes: number;
  readonly requestedVcpu: number;
  readonly tier: TierName;
}

/**
 * Memory per vCPU the tier gives a container: the LimitRange maximum of memory over that of CPU
 * (4 GiB per vCPU on every tier today, the m6i ratio).
 */
export function memoryPerVcpuBytes(tier: TierName): number {
  const { cpu, memory } = TIERS[tier].limitRange.max;
  return quantity(memory) / quantity(cpu);
}

/** The steps of a job in order, each with its usage; the first failing step ends the plan. */
export function planJob(spec: JobSpec): StepPlan[] {
  const plans: StepPlan[] = [];
  let volume = spec.inputBytes;
  const memoryPerVcpu = memoryPerVcpuBytes(spec.tier);
  spec.steps.forEach((step, index) => {
    if (plans.at(-1)?.failure) return;
    const profile = STEP_PROFILES[step];
    const bytesRead = index === 0 ? spec.inputBytes : 0;
    const workMs = Math.ceil((volume / (profile.bytesPerVcpuSecond * spec.requestedVcpu)) * 1000);
    const needed = volume / spec.requestedVcpu;
    if (profile.inMemory && needed > memoryPerVcpu) {
      // The step fails once its working set outgrows memory: at the share of the input that fitted.
      const durationMs = STEP_STARTUP_MS + Math.ceil(workMs * (memoryPerVcpu / needed));
      plans.push({
        step,
        usage: { durationMs, vcpuMs: vcpuMs(durationMs, spec.requestedVcpu, profile.cpuUtilization), bytesRead, bytesWritten: 0 },
        failure: `${step} holds its input in memory: ${(needed / GiB).toFixed(1)} GiB per vCPU for ${(volume / GiB).toFixed(1)} GiB on ${spec.requestedVcpu} vCPU, over the ${(memoryPerVcpu / GiB).toFixed(0)} GiB per vCPU of the ${spec.tier} tier; request at least ${Math.ceil(volume / memoryPerVcpu)} vCPU`,
      });
      return;
    }
    const durationMs = STEP_STARTUP_MS + workMs;
    volume = Math.round(volume * profile.outputRatio);
    plans.push({
      step,
      usage: { durationMs, vcpuMs: vcpuMs(durationMs, spec.requestedVcpu, profile.cpuUtilization), bytesRead, bytesWritten: step === 'persist' ? volume : 0 },
      failure: null,
    });
  });
  return plans;
}

export function addUsage(a: JobUsage, b: JobUsage): JobUsage {
  return { durationMs: a.durationMs + b.durationMs, vcpuMs: a.vcpuMs + b.vcpuMs, bytesRead: a.bytesRead + b.bytesRead, bytesWritten: a.bytesWritten + b.bytesWritten };
}

function vcpuMs(durationMs: number, vcpu: number, utilization: number): number {
  return Math.round(durationMs * vcpu * utilization);
}

/** A Kubernetes quantity (`500m`, `2`, `8Gi`, `512Mi`) as a number (cores or bytes). */
function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!match) throw new RangeError(`Not a Kubernetes quantity this model reads: ${JSON.stringify(text)}.`);
  const scale = { m: 1e-3, Ki: 1024, Mi: MiB, Gi: GiB, Ti: 1024 * GiB }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * scale;
}
