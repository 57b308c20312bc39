import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { JobConflictError, JobLeaseLostError } from '../jobs/errors.js';
import type { Job, JobUsage } from '../jobs/model.js';
import type { JobRepository } from '../jobs/repository.js';
import { JobExecutorValidationError } from './errors.js';
import { addUsage, planJob } from './simulation.js';

export interface JobExecutorProps {
  /** The job store; build it with `eventSource: 'data-plane/job-executor'`. */
  readonly repository: JobRepository;
  /** The placement this executor serves (`JobPlacement.key`, e.g. `namespace/tenant-acme`). */
  readonly placementKey: string;
  /** @default - `<hostname>-<random>` */
  readonly workerId?: string;
  /**
   * Wall-clock time per modelled millisecond: 1 runs steps as long as the model says, 0.001 a thousand
   * times faster (tests). Durations and vCPU-seconds in the events are the model's either way.
   * @default 1
   */
  readonly timeScale?: number;
  /**
   * How long a claim holds without a heartbeat; another executor re-claims the job after it.
   * @default 30_000
   */
  readonly leaseMs?: number;
  /**
   * Pause between looks for work when there is none, in milliseconds.
   * @default 1000
   */
  readonly pollIntervalMs?: number;
  /** @default - a silent logger */
  readonly logger?: Logger;
}

export interface JobExecutorStats {
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Jobs given up because another executor re-claimed them. */
  readonly leasesLost: number;
}

/**
 * Runs the jobs of one placement as the platform would: claims the oldest QUEUED job (or one whose
 * executor stopped heartbeating), emits job.started, runs each step for as long as the model of
 * `simulation.ts` says, heartbeats (which also brings cancel requests), honours a cancel between steps,
 * and ends the job with job.succeeded, job.failed or job.cancelled. Every state change is a conditional
 * write, so a job re-claimed from this executor cannot also be finished by it.
 */
export class JobExecutor {
  public readonly workerId: string;
  private readonly repository: JobRepository;
  private readonly placementKey: string;
  private readonly timeScale: number;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly logger: Logger;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private counts = { succeeded: 0, failed: 0, cancelled: 0, leasesLost: 0 };

  public constructor(props: JobExecutorProps) {
    const problems: string[] = [];
    const timeScale = props.timeScale ?? 1;
    const leaseMs = props.leaseMs ?? 30_000;
    const pollIntervalMs = props.pollIntervalMs ?? 1000;
    if (typeof props.placementKey !== 'string' || !/^[a-z-]+\/[a-z0-9-]+$/.test(props.placementKey)) {
      problems.push(`placementKey must be <isolation>/<namespace> as placementFor() makes it, e.g. "namespace/tenant-acme"; received ${JSON.stringify(props.placementKey)}`);
    }
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) problems.push(`timeScale must be a positive number (1 = real time, 0.001 = 1000x faster); received ${JSON.stringify(props.timeScale)}`);
    if (!Number.isInteger(leaseMs) || leaseMs < 100) problems.push(`leaseMs must be an integer of at least 100; received ${JSON.stringify(props.leaseMs)}`);
    if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 0) problems.push(`pollIntervalMs must be a non-negative integer; received ${JSON.stringify(props.pollIntervalMs)}`);
    if (problems.length > 0) throw new JobExecutorValidationError(`JobExecutor: ${problems.join('; ')}.`);
    this.repository = props.repository;
    this.placementKey = props.placementKey;
    this.workerId = props.workerId ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
    this.timeScale = timeScale;
    this.leaseMs = leaseMs;
    this.pollIntervalMs = pollIntervalMs;
    this.logger = (props.logger ?? pino({ level: 'silent' })).child({ workerId: this.workerId, placement: this.placementKey });
  }

  /** Claims one job and runs it to its end; null when there was none. Returns the job as it ended. */
  public async runOnce(): Promise<Job | null> {
    const job = await this.repository.claimNext(this.placementKey, this.workerId, this.leaseMs);
    if (!job) return null;
    this.logger.info({ jobId: job.jobId, tenantId: job.tenantId, attempt: job.attempts }, 'job claimed');
    try {
      return await this.run(job);
    } catch (error) {
      if (error instanceof JobLeaseLostError) {
        this.counts.leasesLost += 1;
        this.logger.warn({ jobId: job.jobId, err: error }, 'job re-claimed by another executor; giving it up');
        return (error.current as Job | null | undefined) ?? null;
      }
      throw error;
    }
  }

  /** Runs jobs until `stop()`. */
  public start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /**
   * Stops taking jobs; resolves once the job in progress has ended or, when it has more steps, after its
   * current step: the job is then released, and another executor resumes it at once.
   */
  public async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  public stats(): JobExecutorStats {
    return { ...this.counts };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let ran = false;
      try {
        ran = (await this.runOnce()) !== null;
      } catch (error) {
        this.logger.error({ err: error }, 'executor pass failed; trying again after the poll interval');
      }
      if (!ran && !this.stopping) await this.pause(this.pollIntervalMs);
    }
  }

  private async run(claimed: Job): Promise<Job> {
    let job = claimed;
    let usage: JobUsage = job.usage;
    let completed = job.completedSteps;
    const plans = planJob({ steps: job.steps, inputBytes: job.inputBytes, requestedVcpu: job.requestedVcpu, tier: job.placement.tier });

    if (job.inputDatasetId !== null && completed === 0 && !(await this.repository.getDataset(job.tenantId, job.inputDatasetId))) {
      return this.end(job, { status: 'FAILED', usage, completedSteps: completed, failure: { step: job.steps[0] ?? null, reason: `input dataset ${job.inputDatasetId} was deleted before the job started` } });
    }
    for (let index = completed; index < plans.length; index += 1) {
      // Between steps: extend the lease, record progress, and learn of a cancel request.
      job = await this.repository.heartbeat(job, this.workerId, this.leaseMs, { completedSteps: completed, usage });
      if (job.status === 'CANCELLING') return this.end(job, { status: 'CANCELLED', usage, completedSteps: completed });
      if (this.stopping && index > claimed.completedSteps) {
        // Shutting down: hand the job over after a whole step rather than keep the pod alive for the rest.
        this.logger.info({ jobId: job.jobId, completedSteps: completed }, 'executor stopping: job released for another executor');
        return this.repository.release(job, this.workerId, { completedSteps: completed, usage });
      }
      const plan = plans[index];
      await this.simulate(job, plan.usage.durationMs);
      usage = addUsage(usage, plan.usage);
      if (plan.failure !== null) {
        return this.end(job, { status: 'FAILED', usage, completedSteps: completed, failure: { step: plan.step, reason: plan.failure } });
      }
      completed += 1;
    }
    return this.end(job, { status: 'SUCCEEDED', usage, completedSteps: completed });
  }

  /**
   * Finishes the job. A cancel request that arrived since the last heartbeat wins over the outcome: the
   * write fails on the version, and the job ends CANCELLED.
   */
  private async end(job: Job, outcome: Parameters<JobRepository['finish']>[2]): Promise<Job> {
    let ended: Job;
    try {
      ended = await this.repository.finish(job, this.workerId, job.status === 'CANCELLING' ? { ...outcome, status: 'CANCELLED' } : outcome);
    } catch (error) {
      const current = error instanceof JobConflictError ? (error.current as Job | undefined) : undefined;
      if (!current || current.workerId !== this.workerId || current.status !== 'CANCELLING') {
        throw new JobLeaseLostError(`Job ${job.jobId} changed under executor ${this.workerId}: it is ${current?.status ?? 'gone'} now.`, { cause: error, current });
      }
      ended = await this.repository.finish(current, this.workerId, { ...outcome, status: 'CANCELLED' });
    }
    const key = ({ SUCCEEDED: 'succeeded', FAILED: 'failed', CANCELLED: 'cancelled' } as const)[ended.status as 'SUCCEEDED' | 'FAILED' | 'CANCELLED'];
    this.counts[key] += 1;
    this.logger.info({ jobId: ended.jobId, status: ended.status, usage: ended.usage }, 'job ended');
    return ended;
  }

  /** Waits out a step in scaled time, heartbeating at a third of the lease so long steps keep their claim. */
  private async simulate(job: Job, modelledMs: number): Promise<void> {
    let remaining = modelledMs * this.timeScale;
    const beat = this.leaseMs / 3;
    while (remaining > beat) {
      await sleep(beat);
      remaining -= beat;
      await this.repository.heartbeat(job, this.workerId, this.leaseMs);
    }
    await sleep(remaining);
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
