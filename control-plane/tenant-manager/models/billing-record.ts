import { BaseModel } from './base-model.js';

/** A charge for one billing period of a subscription. */
export class BillingRecord extends BaseModel {
  static override tableName = 'billing_records';

  id!: string;
  tenantId!: string;
  subscriptionId!: string;
  periodStart!: string;
  periodEnd!: string;
  amountCents!: number;
  description!: string;
  createdAt!: Date;
}
