import { BaseModel } from './base-model.js';

/** An event waiting in Postgres for the relay to put it on the stream. */
export class OutboxEvent extends BaseModel {
  static override tableName = 'outbox';

  id!: number;
  eventId!: string;
  tenantId!: string;
  type!: string;
  event!: Record<string, unknown>;
  createdAt!: Date;
  publishedAt!: Date | null;

  static override get jsonAttributes() {
    return ['event'];
  }
}
