/** Job lifecycle events, written by the Job Manager (submitted) and the job executor (the rest). */
import { z } from 'zod';
import { DataVersions } from '../versions.js';
import { defineEvent } from './define.js';
import { Bytes, Id, Milliseconds, Text, VcpuMilliseconds } from '../fields.js';

/** The steps a job may run, in the order a full job runs them. */
export const JOB_STEPS = ['load', 'transform', 'process', 'persist'] as const;

export type JobStep = (typeof JOB_STEPS)[number];

const JobId = Id.meta({ description: 'The job.' });

/** What a job used, up to its end (success, failure or cancellation). */
const usage = {
  durationMs: Milliseconds.meta({ description: 'Wall-clock time from start to end, in milliseconds (0 when it never started).' }),
  vcpuMs: VcpuMilliseconds,
  bytesRead: Bytes.meta({ description: 'Bytes the job read from the data lake.' }),
  bytesWritten: Bytes.meta({ description: 'Bytes the job wrote to the data lake.' }),
};

const EXAMPLE_JOB_ID = '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b';

/** v1 of job.succeeded: vCPU time in (fractional) vCPU-seconds. */
const JobSucceededV1 = z.object({
  jobId: JobId,
  durationMs: usage.durationMs,
  vcpuSeconds: z.number().nonnegative().meta({ description: 'vCPU-seconds used (fractional).' }),
  bytesRead: usage.bytesRead,
  bytesWritten: usage.bytesWritten,
});

/** v2: vCPU time in whole vCPU-milliseconds, like job.failed and job.cancelled: sums of integers are exact. */
const JobSucceededV2 = z.object({ jobId: JobId, ...usage });

/** v1 of job.submitted: the job, not who submitted it. */
const JobSubmittedV1 = z.object({
  jobId: JobId,
  steps: z
    .array(z.enum(JOB_STEPS))
    .min(1)
    .max(64)
    .meta({ description: `Steps the job runs, in order: ${JOB_STEPS.join(', ')}.` }),
  inputDatasetId: Id.optional().meta({ description: 'The dataset the job reads; absent for a job without input.' }),
  requestedVcpu: z.number().positive().meta({ description: 'vCPUs the job asked for (may be fractional, e.g. 0.5).' }),
});

/** v2: and the user who submitted it, the `userId` of their `user.login`. */
const JobSubmittedV2 = JobSubmittedV1.extend({
  userId: Id.nullable().meta({ description: "The tenant user who submitted the job (their Cognito sub, as in user.login); null when a platform operator or a service did." }),
});

const EXAMPLE_SUBMISSION = { jobId: EXAMPLE_JOB_ID, steps: ['load', 'transform', 'persist'], inputDatasetId: '0f8e4c2a-6b1d-4e3f-8a9b-7c6d5e4f3a2b', requestedVcpu: 2 } satisfies z.input<typeof JobSubmittedV1>;

export const JOB_EVENTS = {
  'job.submitted': defineEvent({
    description: 'A user submitted a job to the Job Manager; it waits for the executor.',
    producer: 'control-plane/job-manager',
    versions: DataVersions.of(JobSubmittedV1, EXAMPLE_SUBMISSION).add({
      schema: JobSubmittedV2,
      example: { ...EXAMPLE_SUBMISSION, userId: '5f0c2a9e-3b7d-4c1a-9e8f-2d6b4a1c0e9f' },
      change: 'userId added, so that a session without a job is told per user, not per tenant; v1 events are read with userId null.',
      upcast: (v1) => ({ ...v1, userId: null }),
    }),
  }),
  'job.started': defineEvent({
    description: 'The executor started a job.',
    producer: 'data-plane/job-executor',
    versions: DataVersions.of(
      z.object({ jobId: JobId, queuedMs: Milliseconds.meta({ description: 'Time from submission to start, in milliseconds.' }) }),
      { jobId: EXAMPLE_JOB_ID, queuedMs: 1_250 },
    ),
  }),
  'job.succeeded': defineEvent({
    description: 'A job ran every step to the end.',
    producer: 'data-plane/job-executor',
    versions: DataVersions.of(JobSucceededV1, {
      jobId: EXAMPLE_JOB_ID,
      durationMs: 95_000,
      vcpuSeconds: 190.25,
      bytesRead: 52_428_800,
      bytesWritten: 10_485_760,
    }).add({
      schema: JobSucceededV2,
      example: { jobId: EXAMPLE_JOB_ID, durationMs: 95_000, vcpuMs: 190_250, bytesRead: 52_428_800, bytesWritten: 10_485_760 },
      change: 'vcpuSeconds (fractional vCPU-seconds) became vcpuMs (whole vCPU-milliseconds), so that sums are exact; v1 events are read with vcpuMs = round(vcpuSeconds x 1000).',
      upcast: ({ vcpuSeconds, ...rest }) => ({ ...rest, vcpuMs: Math.round(vcpuSeconds * 1000) }),
    }),
  }),
  'job.failed': defineEvent({
    description: 'A job stopped on an error.',
    producer: 'data-plane/job-executor',
    versions: DataVersions.of(
      z.object({
        jobId: JobId,
        failedStep: z.enum(JOB_STEPS).nullable().meta({ description: 'The step that failed; null when the job failed before its first step.' }),
        reason: Text.meta({ description: 'What went wrong, for people.' }),
        ...usage,
      }),
      { jobId: EXAMPLE_JOB_ID, failedStep: 'transform', reason: 'column order_id missing in raw/2024/06/01/orders.csv', durationMs: 12_000, vcpuMs: 24_000, bytesRead: 1_048_576, bytesWritten: 0 },
    ),
  }),
  'job.cancelled': defineEvent({
    description: 'A job was cancelled before it ended, by a user or an operator.',
    producer: 'data-plane/job-executor',
    versions: DataVersions.of(z.object({ jobId: JobId, ...usage }), { jobId: EXAMPLE_JOB_ID, durationMs: 30_000, vcpuMs: 60_000, bytesRead: 8_388_608, bytesWritten: 0 }),
  }),
};
