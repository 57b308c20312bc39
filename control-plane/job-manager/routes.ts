import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { IdempotencyHeaders, Problem } from '../tenant-manager/schemas.js';
import type { JobService } from './job-service.js';
import * as s from './schemas.js';

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } });
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema } } });
const COMMON_ERRORS = {
  '400': problem('Invalid request, or a platform-admin token without ?tenantId='),
  '401': problem('Missing, invalid or expired token'),
  '403': problem('Role not allowed, or a tenant token naming another tenant'),
};
const WRITE_ERRORS = { ...COMMON_ERRORS, '404': problem('No such tenant'), '409': problem('The tenant is not ACTIVE'), '413': problem('Body too large'), '415': problem('Body is not application/json') };

/** The Job Manager's routes, declared once for Koa and OpenAPI alike. */
export function jobManagerRoutes(service: JobService): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/jobs',
      operationId: 'submitJob',
      summary: 'Submits a job (QUEUED): its steps, its input dataset, its vCPUs. It runs where the tenant\'s tier places it.',
      tags: ['jobs'],
      query: s.TenantOnlyQuery,
      headers: IdempotencyHeaders,
      body: s.JobCreate,
      responses: {
        '202': { ...json('Queued; the executor of the tenant\'s placement runs it', s.Job), headers: { Location: { description: 'The job', schema: { type: 'string' } } } },
        ...WRITE_ERRORS,
        '422': problem('vCPU out of the tier\'s range, unknown input dataset, or Idempotency-Key reused with another body'),
      },
      handle: async ({ principal, query, headers, body }) => {
        const { job, replayed } = await service.submit(principal, query.tenantId, headers['idempotency-key'], body);
        return { status: 202, body: job, headers: { Location: `/v1/jobs/${job.id}`, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/jobs',
      operationId: 'listJobs',
      summary: 'The tenant\'s jobs, newest first, optionally of one status.',
      tags: ['jobs'],
      query: s.JobListQuery,
      responses: { '200': json('A page of jobs', s.JobList), ...COMMON_ERRORS },
      handle: async ({ principal, query }) => ({ status: 200, body: await service.list(principal, query.tenantId, query) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/jobs/{id}',
      operationId: 'getJob',
      summary: 'One job: status, placement, progress and usage.',
      tags: ['jobs'],
      params: s.JobIdParams,
      query: s.TenantOnlyQuery,
      responses: { '200': json('The job', s.Job), ...COMMON_ERRORS, '404': problem('No such job visible to the caller') },
      handle: async ({ principal, params, query }) => ({ status: 200, body: await service.get(principal, query.tenantId, params.id) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/jobs/{id}/cancel',
      operationId: 'cancelJob',
      summary: 'Cancels a job: at once when QUEUED (200, CANCELLED), by request when RUNNING (202, CANCELLING; the executor stops between steps).',
      tags: ['jobs'],
      params: s.JobIdParams,
      query: s.TenantOnlyQuery,
      responses: {
        '200': json('Cancelled', s.Job),
        '202': json('Cancel requested; the job ends CANCELLED after its current step', s.Job),
        ...COMMON_ERRORS,
        '404': problem('No such job visible to the caller'),
        '409': problem('The job has ended already'),
      },
      handle: async ({ principal, params, query }) => {
        const job = await service.cancel(principal, query.tenantId, params.id);
        return { status: job.status === 'CANCELLED' ? 200 : 202, body: job };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/datalake/objects',
      operationId: 'registerObject',
      summary: 'Registers an object uploaded to the tenant\'s data lake, with its size (datalake.object.uploaded).',
      tags: ['datalake'],
      query: s.TenantOnlyQuery,
      body: s.ObjectCreate,
      responses: { '201': json('Registered', s.DataObject), ...WRITE_ERRORS },
      handle: async ({ principal, query, body }) => ({ status: 201, body: await service.registerObject(principal, query.tenantId, body) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/datalake/datasets',
      operationId: 'createDataset',
      summary: 'Registers a dataset made of registered objects; its size is the sum of theirs (datalake.dataset.created).',
      tags: ['datalake'],
      query: s.TenantOnlyQuery,
      body: s.DatasetCreate,
      responses: {
        '201': { ...json('Created', s.Dataset), headers: { Location: { description: 'The dataset', schema: { type: 'string' } } } },
        ...WRITE_ERRORS,
        '409': problem('The tenant is not ACTIVE, or the name is taken'),
        '422': problem('An object key is not registered'),
      },
      handle: async ({ principal, query, body }) => {
        const dataset = await service.createDataset(principal, query.tenantId, body);
        return { status: 201, body: dataset, headers: { Location: `/v1/datalake/datasets/${dataset.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/datalake/datasets',
      operationId: 'listDatasets',
      summary: 'The tenant\'s datasets (ordered by id).',
      tags: ['datalake'],
      query: s.DatasetListQuery,
      responses: { '200': json('A page of datasets', s.DatasetList), ...COMMON_ERRORS },
      handle: async ({ principal, query }) => ({ status: 200, body: await service.listDatasets(principal, query.tenantId, query) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/datalake/datasets/{id}',
      operationId: 'deleteDataset',
      summary: 'Deletes a dataset (datalake.dataset.deleted); its name is free again. Jobs queued on it fail when they start.',
      tags: ['datalake'],
      params: s.DatasetIdParams,
      query: s.TenantOnlyQuery,
      responses: { '200': json('Deleted', s.Dataset), ...COMMON_ERRORS, '404': problem('No such dataset visible to the caller') },
      handle: async ({ principal, params, query }) => ({ status: 200, body: await service.deleteDataset(principal, query.tenantId, params.id) }),
    }),
  ];
}
