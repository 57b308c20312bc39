import type { QueryBuilder } from 'objection';
import { BaseModel } from './base-model.js';

export const TENANT_STATUSES = ['PENDING', 'PROVISIONING', 'ACTIVE', 'FAILED', 'SUSPENDED', 'OFFBOARDING', 'OFFBOARDED'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export class Tenant extends BaseModel {
  static override tableName = 'tenants';

  id!: string;
  name!: string;
  displayName!: string;
  planId!: string;
  tier!: string;
  tierReasons!: string[];
  requirements!: Record<string, unknown>;
  tierOverride!: string | null;
  status!: TenantStatus;
  createdAt!: Date;
  updatedAt!: Date;

  static override jsonSchema = {
    type: 'object',
    required: ['id', 'name', 'displayName', 'planId', 'tier', 'tierReasons', 'requirements', 'status'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      displayName: { type: 'string' },
      planId: { type: 'string' },
      tier: { type: 'string' },
      tierReasons: { type: 'array', items: { type: 'string' } },
      requirements: { type: 'object' },
      tierOverride: { type: ['string', 'null'] },
      status: { type: 'string', enum: [...TENANT_STATUSES] },
    },
  };

  // Objection would otherwise stringify only objects, not arrays, for jsonb columns.
  static override get jsonAttributes() {
    return ['tierReasons', 'requirements'];
  }

  static override modifiers = {
    /** Keyset pagination in creation order: stable while tenants are added. */
    after(query: QueryBuilder<Tenant>, cursor: { createdAt: string; id: string } | null) {
      if (cursor) void query.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [cursor.createdAt, cursor.id]);
    },
  };
}
