import { BaseModel } from './base-model.js';

/** A move between tiers asked for by a plan change; provisioning carries it out. */
export class TierChangeRequest extends BaseModel {
  static override tableName = 'tier_change_requests';

  id!: string;
  tenantId!: string;
  fromTier!: string;
  toTier!: string;
  reason!: string;
  status!: 'REQUESTED' | 'IN_PROGRESS' | 'DONE' | 'FAILED';
  createdAt!: Date;
}
