import type { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { Problem, TenantIdParams } from '../tenant-manager/schemas.js';
import { WorkflowList, WorkflowView } from './schemas.js';
import type { ProvisioningService } from './service.js';

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } });
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema } } });
const TENANT_ERRORS = {
  '400': problem('Invalid request'),
  '401': problem('Missing, invalid or expired token'),
  '403': problem('Role not allowed'),
  '404': problem('No such tenant visible to the caller'),
};

/** The provisioning routes, mounted on the Tenant Manager's app. */
export function provisioningRoutes(service: ProvisioningService): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/tenants/{id}/provisioning',
      operationId: 'getTenantProvisioning',
      summary: "The tenant's provisioning workflows (onboarding, tier changes, offboarding), oldest first, with each step's status, attempts and last error.",
      tags: ['provisioning'],
      params: TenantIdParams,
      responses: { '200': json('Workflows with their steps', WorkflowList), ...TENANT_ERRORS },
      handle: async ({ principal, params }) => ({ status: 200, body: await service.list(principal, params.id) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/tenants/{id}/provisioning/retry',
      operationId: 'retryTenantProvisioning',
      summary: "Runs the tenant's failed provisioning step again (platform-admin, or the tenant's admin).",
      tags: ['provisioning'],
      params: TenantIdParams,
      responses: { '202': json('The workflow, running again', WorkflowView), ...TENANT_ERRORS, '409': problem('No provisioning workflow of the tenant failed') },
      handle: async ({ principal, params }) => ({ status: 202, body: await service.retry(principal, params.id) }),
    }),
  ];
}
