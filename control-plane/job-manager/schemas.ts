import { z } from 'zod';
import { JOB_STATUSES, JOB_STEPS, MAX_DATASET_OBJECTS } from '../../data-plane/index.js';
import { ISOLATION_LEVELS, TIER_NAMES } from '../../tenant-tiers/index.js';

/** Request and response schemas of the Job Manager: they validate requests and generate /openapi.json. */

const Id = z.uuid().meta({ description: 'A UUID.' });

export const TenantQuery = {
  tenantId: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a tenant id: a lower-case UUID')
    .optional().meta({ description: 'The tenant to act for: required for platform-admin tokens; tenant tokens act for their own tenant only.' }),
};

export const JobStatus = z.enum(JOB_STATUSES).meta({ id: 'JobStatus' });
export const JobStep = z.enum(JOB_STEPS).meta({ id: 'JobStep' });

export const JobCreate = z
  .strictObject({
    steps: z
      .array(JobStep)
      .min(1)
      .max(JOB_STEPS.length)
      .refine((steps) => steps.every((step, index) => index === 0 || JOB_STEPS.indexOf(step) > JOB_STEPS.indexOf(steps[index - 1])), {
        message: `list each step at most once, in the order ${JOB_STEPS.join(', ')}`,
      })
      .meta({ description: `Steps to run: a subset of ${JOB_STEPS.join(', ')}, in that order.` }),
    inputDatasetId: Id.meta({ description: 'The dataset the job reads: one of the tenant\'s datasets.' }),
    requestedVcpu: z.number().meta({ description: 'vCPUs for the job: above 0 and at most the maxVcpu of the tenant\'s tier (GET /v1/tiers). Fractions allowed, e.g. 0.5.' }),
  })
  .meta({ id: 'JobCreate' });

const Usage = z
  .object({
    durationMs: z.number().int(),
    vcpuMs: z.number().int().meta({ description: 'vCPU-milliseconds.' }),
    bytesRead: z.number().int(),
    bytesWritten: z.number().int(),
  })
  .meta({ id: 'JobUsage' });

export const Placement = z
  .object({
    tier: z.enum(TIER_NAMES),
    isolation: z.enum(ISOLATION_LEVELS),
    namespace: z.string(),
    nodeSelector: z.record(z.string(), z.string()).nullable(),
    accountId: z.string().nullable(),
  })
  .meta({ id: 'JobPlacement', description: 'Where the job runs, from the tenant\'s tier.' });

export const Job = z
  .object({
    id: Id,
    tenantId: Id,
    status: JobStatus,
    steps: z.array(JobStep),
    inputDatasetId: Id.nullable(),
    inputBytes: z.number().int(),
    requestedVcpu: z.number(),
    placement: Placement,
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    cancelRequestedAt: z.iso.datetime().nullable(),
    attempts: z.number().int(),
    completedSteps: z.number().int(),
    usage: Usage,
    failure: z.object({ step: JobStep.nullable(), reason: z.string() }).nullable(),
  })
  .meta({ id: 'Job' });

const Limit = z.coerce.number().int().min(1).max(100).default(20);
const Cursor = z.string().max(400).optional().meta({ description: 'nextCursor of the previous page.' });

export const JobListQuery = z.strictObject({ ...TenantQuery, status: JobStatus.optional(), limit: Limit, cursor: Cursor });
export const JobList = z.object({ items: z.array(Job), nextCursor: z.string().nullable() }).meta({ id: 'JobList' });
export const TenantOnlyQuery = z.strictObject(TenantQuery);
export const JobIdParams = z.strictObject({ id: Id });

export const ObjectCreate = z
  .strictObject({
    key: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^/\x00-\x1f\x7f][^\x00-\x1f\x7f]*$/, 'must not start with / nor contain control characters')
      // The key is part of the item's sort key, which DynamoDB caps at 1024 bytes.
      .refine((key) => Buffer.byteLength(key, 'utf8') <= 1000, 'must be at most 1000 bytes of UTF-8')
      .meta({ description: 'S3 key of the uploaded object within the tenant\'s prefix (at most 1000 bytes of UTF-8), e.g. raw/2024/06/01/orders.csv.' }),
    bytes: z.int().min(0).max(5 * 1024 ** 4).meta({ description: 'Size of the object in bytes (at most 5 TiB, S3\'s limit).' }),
    contentType: z
      .string()
      .max(255)
      .regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a media type such as text/csv')
      .default('application/octet-stream'),
  })
  .meta({ id: 'ObjectCreate' });

export const DataObject = z
  .object({ key: z.string(), bytes: z.number().int(), contentType: z.string(), registeredAt: z.iso.datetime() })
  .meta({ id: 'DataObject' });

export const DatasetCreate = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][\w.-]{0,127}$/, 'must be 1-128 letters, digits, _, . or -, starting with a letter or digit')
      .meta({ description: 'Unique within the tenant.' }),
    objectKeys: z
      .array(ObjectCreate.shape.key)
      .min(1)
      .max(MAX_DATASET_OBJECTS)
      .meta({ description: 'Registered objects the dataset is made of; its size is the sum of their bytes.' }),
  })
  .meta({ id: 'DatasetCreate' });

export const Dataset = z
  .object({
    id: Id,
    tenantId: Id,
    name: z.string(),
    objectKeys: z.array(z.string()),
    sizeBytes: z.number().int(),
    status: z.enum(['ACTIVE', 'DELETED']),
    createdAt: z.iso.datetime(),
    deletedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Dataset' });

export const DatasetListQuery = z.strictObject({ ...TenantQuery, limit: Limit, cursor: Cursor });
export const DatasetList = z.object({ items: z.array(Dataset), nextCursor: z.string().nullable() }).meta({ id: 'DatasetList' });
export const DatasetIdParams = z.strictObject({ id: Id });
