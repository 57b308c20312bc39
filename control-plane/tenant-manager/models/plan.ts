import { BaseModel } from './base-model.js';

/** The plan catalog as stored: synced from tenant-tiers' PLANS at start-up. */
export class Plan extends BaseModel {
  static override tableName = 'plans';

  id!: string;
  displayName!: string;
  monthlyPriceCents!: number;
  defaultTier!: string;
  allowedTiers!: string[];
  maxUsers!: number;
  trialDays!: number | null;
  updatedAt!: Date;

  static override jsonSchema = {
    type: 'object',
    required: ['id', 'displayName', 'monthlyPriceCents', 'defaultTier', 'allowedTiers', 'maxUsers'],
    properties: {
      id: { type: 'string' },
      displayName: { type: 'string' },
      monthlyPriceCents: { type: 'integer', minimum: 0 },
      defaultTier: { type: 'string' },
      allowedTiers: { type: 'array', items: { type: 'string' } },
      maxUsers: { type: 'integer', minimum: 1 },
      trialDays: { type: ['integer', 'null'] },
    },
  };
}
