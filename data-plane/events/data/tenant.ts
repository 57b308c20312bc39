/** Tenant lifecycle events. The first three are emitted by the control plane since the foundation: their v1 stays as it is. */
import { z } from 'zod';
import { DataVersions } from '../versions.js';
import { defineEvent } from './define.js';
import { PlanName, TenantStatus, Text, TierName } from '../fields.js';

const TierChange = z
  .object({ from: TierName.meta({ description: 'Tier before the change.' }), to: TierName.meta({ description: 'Tier after the change; differs from from.' }) })
  .refine((change) => change.from !== change.to, { message: 'from and to must differ: a tier change moves the tenant' });

export const TENANT_EVENTS = {
  'tenant.registered': defineEvent({
    description: 'The Tenant Manager registered a tenant (status PENDING); provisioning follows.',
    producer: 'control-plane/tenant-manager',
    versions: DataVersions.of(
      z.object({
        name: z
          .string()
          .regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/)
          .meta({ description: "The tenant's unique name (a DNS label: it names the tenant's namespace)." }),
        plan: PlanName.meta({ description: 'Plan the tenant subscribed to.' }),
        tier: TierName.meta({ description: 'Tier the tier policy placed the tenant on.' }),
        reasons: z.array(z.string()).meta({ description: "The tier policy's reasons for the tier, in order." }),
      }),
      { name: 'acme', plan: 'premium', tier: 'bridge', reasons: ['plan premium defaults to bridge'] },
    ),
  }),
  'tenant.status_changed': defineEvent({
    description: "A tenant's lifecycle status changed (the first change, from null, is its registration).",
    producer: 'control-plane/tenant-manager',
    versions: DataVersions.of(
      z.object({
        from: TenantStatus.nullable().meta({ description: 'Status before the change; null when the tenant was just registered.' }),
        to: TenantStatus.meta({ description: 'Status after the change.' }),
        reason: Text.meta({ description: 'Why the status changed, for people.' }),
      }),
      { from: 'PENDING', to: 'PROVISIONING', reason: 'provisioning started' },
    ),
  }),
  'tenant.plan_changed': defineEvent({
    description: "A tenant's plan changed; when the new plan puts it on another tier, provisioning moves it (tenant.tier_changed follows).",
    producer: 'control-plane/tenant-manager',
    versions: DataVersions.of(
      z.object({
        fromPlan: PlanName.meta({ description: 'Plan before the change.' }),
        toPlan: PlanName.meta({ description: 'Plan after the change.' }),
        tierChange: TierChange.nullable().meta({ description: 'The tier move the new plan asks for, or null when the tier stays.' }),
      }),
      { fromPlan: 'standard', toPlan: 'premium', tierChange: { from: 'pool', to: 'bridge' } },
    ),
  }),
  'tenant.tier_changed': defineEvent({
    description: 'Provisioning finished moving a tenant to another tier: from now on its workloads run there.',
    producer: 'control-plane/provisioning',
    versions: DataVersions.of(TierChange, { from: 'pool', to: 'bridge' }),
  }),
  'tenant.offboarded': defineEvent({
    description: "A tenant was torn down (status OFFBOARDED): its resources and data are gone, and it emits nothing more.",
    producer: 'control-plane/provisioning',
    versions: DataVersions.of(
      z.object({ reason: Text.meta({ description: 'Why the tenant left, for people (and churn analysis).' }) }),
      { reason: 'offboarding requested' },
    ),
  }),
};
