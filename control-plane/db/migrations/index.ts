import type { Knex } from 'knex';
import * as tenantManager from './0001-tenant-manager.js';
import * as provisioning from './0002-provisioning.js';
import * as provisioningIndexes from './0003-provisioning-indexes.js';
import * as idempotencyKeyExpiry from './0004-idempotency-key-expiry.js';

interface Migration {
  readonly name: string;
  readonly up: (knex: Knex) => Promise<void>;
  readonly down: (knex: Knex) => Promise<void>;
}

/** Every migration, in order. Listed here rather than read from disk, so bundlers and tsx agree. */
const MIGRATIONS: readonly Migration[] = [
  { name: '0001-tenant-manager', ...tenantManager },
  { name: '0002-provisioning', ...provisioning },
  { name: '0003-provisioning-indexes', ...provisioningIndexes },
  { name: '0004-idempotency-key-expiry', ...idempotencyKeyExpiry },
];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: () => Promise.resolve([...MIGRATIONS]),
  getMigrationName: (migration) => migration.name,
  getMigration: (migration) => Promise.resolve(migration),
};
