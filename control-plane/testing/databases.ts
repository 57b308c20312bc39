import { randomBytes } from 'node:crypto';
import { Database } from '../db/database.js';

/** The machine's Postgres server, as the developers' guide describes it. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Backend = 'postgres' | 'pglite';
/** Integration suites run against both: `describe.each(BACKENDS)`. */
export const BACKENDS: readonly Backend[] = ['postgres', 'pglite'];

/**
 * A migrated database of the given backend. On the Postgres server each call gets its own schema,
 * so suites running in parallel never see each other's rows; `dropTestDatabase` removes it.
 */
export async function createTestDatabase(backend: Backend): Promise<Database> {
  const db = backend === 'postgres' ? new Database({ url: TEST_DATABASE_URL, schema: `test_${randomBytes(6).toString('hex')}`, poolSize: 60 }) : new Database();
  await db.migrate();
  return db;
}

export async function dropTestDatabase(db: Database): Promise<void> {
  if (db.dialect === 'postgres') await db.knex.raw('DROP SCHEMA ?? CASCADE', [db.schema]);
  await db.destroy();
}
