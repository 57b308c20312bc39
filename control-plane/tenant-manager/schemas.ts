import { COMPLIANCE_REGIMES, PLAN_NAMES, TIER_NAMES } from '../../tenant-tiers/index.js';
import { z } from 'zod';
import { TENANT_STATUSES, TENANT_USER_ROLES } from './models/index.js';

/** Request and response schemas: they validate requests and generate /openapi.json. */

const Uuid = z.uuid().meta({ description: 'A UUID.' });

export const TierName = z.enum(TIER_NAMES).meta({ id: 'TierName' });
export const TenantStatus = z.enum(TENANT_STATUSES).meta({ id: 'TenantStatus' });

export const Requirements = z
  .strictObject({
    compliance: z.array(z.enum(COMPLIANCE_REGIMES)).max(COMPLIANCE_REGIMES.length).optional(),
    dataResidency: z.string().min(1).max(32).optional().meta({ description: 'AWS region the data must stay in, e.g. eu-central-1.' }),
    expectedVcpu: z.number().positive().max(100_000).optional(),
    dedicatedCapacity: z.boolean().optional(),
  })
  .meta({ id: 'Requirements' });

/** Plans and tier overrides are strings here: the tier policy names the known ones when it rejects. */
const PlanField = z.string().min(1).max(64).meta({ description: `A plan id: ${PLAN_NAMES.join(', ')}.` });
const TierOverrideField = z.string().min(1).max(32).meta({ description: `A tier to use instead of the policy's choice: ${TIER_NAMES.join(', ')}.` });

export const TierDecisionRequest = z
  .strictObject({ plan: PlanField, requirements: Requirements.optional(), tierOverride: TierOverrideField.optional() })
  .meta({ id: 'TierDecisionRequest' });

export const TierDecision = z
  .object({
    plan: z.string(),
    tier: TierName,
    reasons: z.array(z.string()),
    monthlyEstimateUsd: z.number(),
    overridden: z.boolean(),
  })
  .meta({ id: 'TierDecision' });

export const TenantName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/, 'must be 3-40 characters of a-z, 0-9 and -, starting with a letter (it names the tenant\'s namespace)');

export const TenantCreate = z
  .strictObject({
    name: TenantName,
    displayName: z.string().min(1).max(120).optional(),
    plan: PlanField,
    requirements: Requirements.optional(),
    tierOverride: TierOverrideField.optional(),
    adminEmail: z.email(),
  })
  .meta({ id: 'TenantCreate' });

export const TenantPatch = z
  .strictObject({
    plan: PlanField.optional(),
    displayName: z.string().min(1).max(120).optional(),
    tierOverride: TierOverrideField.nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one of plan, displayName, tierOverride' })
  .meta({ id: 'TenantPatch' });

export const Tenant = z
  .object({
    id: Uuid,
    name: z.string(),
    displayName: z.string(),
    plan: z.string(),
    tier: TierName,
    tierReasons: z.array(z.string()),
    requirements: Requirements,
    tierOverride: z.string().nullable(),
    status: TenantStatus,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Tenant' });

export const TenantList = z.object({ items: z.array(Tenant), nextCursor: z.string().nullable() }).meta({ id: 'TenantList' });

export const TenantListQuery = z.strictObject({
  status: TenantStatus.optional(),
  tier: TierName.optional(),
  plan: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const TenantChange = z
  .object({
    tenant: Tenant,
    tierChange: z.object({ id: Uuid, from: TierName, to: TierName, status: z.string(), reason: z.string() }).nullable(),
  })
  .meta({ id: 'TenantChange' });

export const StatusChange = z
  .object({ from: TenantStatus.nullable(), to: TenantStatus, reason: z.string(), at: z.iso.datetime() })
  .meta({ id: 'StatusChange' });
export const StatusHistory = z.object({ items: z.array(StatusChange) }).meta({ id: 'StatusHistory' });

export const TenantUserRole = z.enum(TENANT_USER_ROLES);
export const UserCreate = z.strictObject({ email: z.email(), role: TenantUserRole }).meta({ id: 'UserCreate' });
export const User = z
  .object({ id: Uuid, tenantId: Uuid, email: z.string(), role: TenantUserRole, createdAt: z.iso.datetime() })
  .meta({ id: 'User' });
export const UserList = z.object({ items: z.array(User) }).meta({ id: 'UserList' });

export const TenantIdParams = z.strictObject({ id: Uuid });

export const IdempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string({ error: 'the Idempotency-Key header is required: send a unique value per distinct request (a UUID)' })
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
});

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ in: z.enum(['body', 'path', 'query', 'header']), pointer: z.string(), detail: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });
