import { BaseModel } from './base-model.js';

/** A caller's Idempotency-Key, the hash of the request it came with, and the answer given. */
export class IdempotencyKey extends BaseModel {
  static override tableName = 'idempotency_keys';
  static override get idColumn() {
    return ['caller', 'key'];
  }

  caller!: string;
  key!: string;
  requestHash!: string;
  statusCode!: number | null;
  responseBody!: unknown;
  createdAt!: Date;

  static override get jsonAttributes() {
    return ['responseBody'];
  }
}
