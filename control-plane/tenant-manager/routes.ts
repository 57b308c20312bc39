import type { z } from 'zod';
import { PLANS, TIERS } from '../../tenant-tiers/index.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import * as s from './schemas.js';
import type { TenantService } from './tenant-service.js';

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: s.Problem } } });
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema } } });
const COMMON_ERRORS = { '400': problem('Invalid request'), '401': problem('Missing, invalid or expired token') };
const TENANT_ERRORS = { ...COMMON_ERRORS, '403': problem('Role not allowed'), '404': problem('No such tenant visible to the caller') };

/** The Tenant Manager's routes, declared once for Koa and OpenAPI alike. */
export function tenantManagerRoutes(service: TenantService): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/tiers',
      operationId: 'listTiers',
      summary: 'The tier catalog: isolation, quotas, node groups and prices of pool, bridge and silo.',
      tags: ['catalog'],
      public: true,
      responses: { '200': { description: 'The tiers' } },
      handle: () => ({ status: 200, body: { items: Object.values(TIERS) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/plans',
      operationId: 'listPlans',
      summary: 'The plan catalog with prices and the tiers each plan allows.',
      tags: ['catalog'],
      public: true,
      responses: { '200': { description: 'The plans' } },
      handle: () => ({ status: 200, body: { items: Object.values(PLANS) } }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/tier-decisions',
      operationId: 'decideTier',
      summary: 'Which tier a plan and requirements lead to, why, and the monthly estimate. No side effects.',
      tags: ['onboarding'],
      body: s.TierDecisionRequest,
      responses: { '200': json('The decision', s.TierDecision), ...COMMON_ERRORS, '422': problem('Unknown plan, or requirements or override the plan cannot meet') },
      handle: ({ body }) => ({ status: 200, body: service.decideTier(body) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/tenants',
      operationId: 'registerTenant',
      summary: 'Registers a tenant: the kit chooses its tier and starts onboarding (PENDING).',
      tags: ['onboarding'],
      headers: s.IdempotencyHeaders,
      body: s.TenantCreate,
      responses: {
        '202': { ...json('Registered; onboarding proceeds asynchronously', s.Tenant), headers: { Location: { description: 'The tenant', schema: { type: 'string' } } } },
        ...COMMON_ERRORS,
        '403': problem('Only platform-admin and onboarding clients register tenants'),
        '409': problem('The tenant name is taken'),
        '413': problem('Body too large'),
        '415': problem('Body is not application/json'),
        '422': problem('Unknown plan, impossible override, or Idempotency-Key reused with another body'),
      },
      handle: async ({ principal, headers, body }) => {
        const registration = await service.register(principal, headers['idempotency-key'], body);
        return {
          status: registration.status,
          body: registration.tenant,
          headers: { Location: `/v1/tenants/${registration.tenant.id}`, ...(registration.replayed ? { 'Idempotent-Replayed': 'true' } : {}) },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/tenants',
      operationId: 'listTenants',
      summary: 'Tenants visible to the caller (all for platform roles, their own for tenant roles), oldest first.',
      tags: ['tenants'],
      query: s.TenantListQuery,
      responses: { '200': json('A page of tenants', s.TenantList), ...COMMON_ERRORS },
      handle: async ({ principal, query }) => ({ status: 200, body: await service.list(principal, query) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/tenants/{id}',
      operationId: 'getTenant',
      summary: 'One tenant with its tier, the reasons for it, and its lifecycle status.',
      tags: ['tenants'],
      params: s.TenantIdParams,
      responses: { '200': json('The tenant', s.Tenant), ...TENANT_ERRORS },
      handle: async ({ principal, params }) => ({ status: 200, body: await service.get(principal, params.id) }),
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/tenants/{id}',
      operationId: 'updateTenant',
      summary: 'Changes plan, tier override or display name; a change of tier is recorded as a tier-change request.',
      tags: ['tenants'],
      params: s.TenantIdParams,
      body: s.TenantPatch,
      responses: { '200': json('The tenant and the tier change it asks for, if any', s.TenantChange), ...TENANT_ERRORS, '409': problem('Tenant is offboarding'), '422': problem('The plan cannot serve the tenant\'s requirements') },
      handle: async ({ principal, params, body }) => ({ status: 200, body: await service.update(principal, params.id, body) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/tenants/{id}',
      operationId: 'offboardTenant',
      summary: 'Asks for the tenant to be offboarded (OFFBOARDING); teardown proceeds asynchronously.',
      tags: ['tenants'],
      params: s.TenantIdParams,
      responses: { '202': json('Offboarding requested', s.Tenant), ...TENANT_ERRORS, '409': problem('Already offboarding or offboarded') },
      handle: async ({ principal, params }) => ({ status: 202, body: await service.requestOffboarding(principal, params.id) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/tenants/{id}/history',
      operationId: 'getTenantHistory',
      summary: 'The tenant\'s lifecycle: every status it went through, when and why.',
      tags: ['tenants'],
      params: s.TenantIdParams,
      responses: { '200': json('Status changes, oldest first', s.StatusHistory), ...TENANT_ERRORS },
      handle: async ({ principal, params }) => ({ status: 200, body: await service.history(principal, params.id) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/tenants/{id}/users',
      operationId: 'listTenantUsers',
      summary: 'The tenant\'s users.',
      tags: ['users'],
      params: s.TenantIdParams,
      responses: { '200': json('Users', s.UserList), ...TENANT_ERRORS },
      handle: async ({ principal, params }) => ({ status: 200, body: await service.listUsers(principal, params.id) }),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/tenants/{id}/users',
      operationId: 'addTenantUser',
      summary: 'Adds a user to the tenant.',
      tags: ['users'],
      params: s.TenantIdParams,
      body: s.UserCreate,
      responses: { '201': json('The user', s.User), ...TENANT_ERRORS, '409': problem('The email is taken in this tenant'), '422': problem('The plan\'s user limit is reached') },
      handle: async ({ principal, params, body }) => {
        const user = await service.addUser(principal, params.id, body);
        return { status: 201, body: user, headers: { Location: `/v1/tenants/${params.id}/users/${user.id}` } };
      },
    }),
  ];
}
