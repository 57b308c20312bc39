import { BaseModel } from './base-model.js';

/** The plan and tier a tenant pays for over a period; `endedAt` null while current. */
export class Subscription extends BaseModel {
  static override tableName = 'subscriptions';

  id!: string;
  tenantId!: string;
  planId!: string;
  tier!: string;
  monthlyPriceCents!: number;
  startedAt!: Date;
  endedAt!: Date | null;
}
