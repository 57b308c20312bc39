import { mkdirSync } from 'node:fs';
import knexFactory, { type Knex } from 'knex';
import ClientPGLite from 'knex-pglite';
import type { Model, ModelClass, QueryBuilder } from 'objection';
import pg from 'pg';
import { migrationSource } from './migrations/index.js';

/** The role tenant-scoped work runs as: row-level security applies to it (see the migration). */
export const TENANT_SCOPE_ROLE = 'saas_tenant_scope';
/** The per-transaction setting the row-level security policies read. */
export const TENANT_SETTING = 'app.tenant_id';

export interface DatabaseOptions {
  /**
   * A Postgres connection string. Unset, an embedded PGlite database is used.
   * @default - PGlite in `pgliteDataDir`
   */
  readonly url?: string;
  /**
   * Where PGlite keeps its files when `url` is unset.
   * @default 'memory://' (nothing kept)
   */
  readonly pgliteDataDir?: string;
  /**
   * Schema the kit's tables live in, created if missing (tests give each suite its own).
   * @default 'public'
   */
  readonly schema?: string;
  /** @default 10 */
  readonly poolSize?: number;
}

export type Dialect = 'postgres' | 'pglite';

/**
 * The kit's Postgres access. Three ways in, by who is asking:
 * - `asPlatform`: the platform's own work (onboarding, admin reads) as the connecting role;
 * - `asTenant`: a transaction as the tenant-scope role with the tenant id set for it, so row-level
 *   security hides every other tenant's rows even from a query that forgets its filter;
 * - `readAsTenant`: the same isolation for one read, in one round trip (the hot path).
 */
export class Database {
  readonly knex: Knex;
  readonly dialect: Dialect;
  readonly schema: string;

  constructor(options: DatabaseOptions = {}) {
    this.schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.schema)) {
      throw new Error(`Database schema "${this.schema}" is not a plain lower-case identifier: use letters, digits and _.`);
    }
    this.dialect = options.url ? 'postgres' : 'pglite';
    this.knex = options.url ? postgresKnex(options.url, this.schema, options.poolSize ?? 10) : pgliteKnex(options.pgliteDataDir ?? 'memory://', this.schema);
  }

  /** Creates the schema if needed and runs every pending migration. */
  async migrate(): Promise<void> {
    await this.knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [this.schema]);
    await this.knex.migrate.latest({ migrationSource, schemaName: this.schema });
  }

  /** Undoes every migration (the down path, tested). */
  async rollbackAll(): Promise<void> {
    await this.knex.migrate.rollback({ migrationSource, schemaName: this.schema }, true);
  }

  async destroy(): Promise<void> {
    await this.knex.destroy();
  }

  asPlatform<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(work);
  }

  async asTenant<T>(tenantId: string, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    assertUuid(tenantId);
    return this.knex.transaction(async (trx) => {
      await trx.raw(`SELECT set_config('role', ?, true), set_config(?, ?, true)`, [TENANT_SCOPE_ROLE, TENANT_SETTING, tenantId]);
      return work(trx);
    });
  }

  /**
   * Compiles a read once, for `readAsTenant` to run many times with new values. The query's bound
   * values are placeholders: `readAsTenant` supplies the real ones, in the same order. Building an
   * Objection query and compiling it costs more CPU than the one-row read itself, so hot reads are
   * prepared when their service is built.
   */
  prepareRead<M extends Model>(query: QueryBuilder<M, M[]>): PreparedRead<M> {
    const compiled = query.toKnexQuery().toSQL();
    return { modelClass: query.modelClass(), sql: compiled.sql, nativeSql: compiled.toNative().sql, parameterCount: compiled.bindings.length };
  }

  /**
   * Runs a prepared read as the tenant. On a Postgres server it goes as one simple-protocol message
   * holding two statements (set the role and tenant, then the query): Postgres runs such a message
   * as one implicit transaction, so the settings hold for the query and end with it, at the cost
   * of a single round trip instead of BEGIN/set/SELECT/COMMIT. The simple protocol takes no
   * parameters, so values are inlined with pg's escapeLiteral (libpq's quoting rules); only scalars
   * are accepted. PGlite, in-process, has no round trips to save and takes one statement per query:
   * it uses `asTenant`.
   */
  async readAsTenant<M extends Model>(tenantId: string, read: PreparedRead<M>, values: readonly Scalar[]): Promise<M[]> {
    assertUuid(tenantId);
    if (values.length !== read.parameterCount) {
      throw new Error(`The prepared read takes ${read.parameterCount} values; ${values.length} were given.`);
    }
    let rows: Record<string, unknown>[];
    if (this.dialect === 'pglite') {
      rows = await this.asTenant(tenantId, async (trx) => {
        const result: pg.QueryResult<Record<string, unknown>> = await trx.raw(read.sql, [...values]);
        return result.rows;
      });
    } else {
      const text =
        `SELECT set_config('role', ${pg.escapeLiteral(TENANT_SCOPE_ROLE)}, true), set_config('${TENANT_SETTING}', ${pg.escapeLiteral(tenantId)}, true); ` +
        inlineValues(read.nativeSql, values);
      // Straight to a pooled pg client: knex's query runner adds more per query than the query costs.
      const client = this.knex.client as { acquireConnection(): Promise<pg.Client>; releaseConnection(connection: pg.Client): Promise<void> };
      const connection = await client.acquireConnection();
      try {
        const results = (await connection.query(text)) as unknown as pg.QueryResult<Record<string, unknown>>[];
        rows = results[1]?.rows ?? [];
      } finally {
        await client.releaseConnection(connection);
      }
    }
    return rows.map((row) => read.modelClass.fromDatabaseJson(row));
  }
}

/** A read compiled once by `Database.prepareRead`. */
export interface PreparedRead<M extends Model> {
  readonly modelClass: ModelClass<M>;
  /** With `?` placeholders, for knex. */
  readonly sql: string;
  /** With `$n` placeholders, for inlining. */
  readonly nativeSql: string;
  readonly parameterCount: number;
}

export type Scalar = string | number | boolean | Date | null;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function assertUuid(tenantId: string): void {
  if (!UUID.test(tenantId)) {
    throw new Error(`Tenant id "${tenantId}" is not a UUID: tenant-scoped work needs the tenant's id.`);
  }
}

/** Replaces `$n` placeholders with quoted literals; only scalar values are allowed. */
function inlineValues(sql: string, values: readonly Scalar[]): string {
  return sql.replace(/\$(\d+)/g, (_match, index: string) => {
    const value: unknown = values[Number(index) - 1];
    if (value === null) return 'NULL';
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
    if (typeof value === 'string') return pg.escapeLiteral(value);
    if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
    throw new Error(`readAsTenant cannot inline a binding of type ${typeof value}: use asTenant for this query.`);
  });
}

function postgresKnex(url: string, schema: string, poolSize: number): Knex {
  return knexFactory({
    client: 'pg',
    connection: url,
    searchPath: [schema],
    pool: { min: 0, max: poolSize },
  });
}

function pgliteKnex(dataDir: string, schema: string): Knex {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  return knexFactory({
    client: ClientPGLite,
    dialect: 'postgres',
    connection: { connectionString: dataDir },
    searchPath: [schema],
  });
}

/**
 * Whether a query failed on a unique constraint (SQLSTATE 23505). Objection classifies only the
 * constraints whose names it can parse, so the code of the driver's error decides.
 */
export function isUniqueViolation(error: unknown): boolean {
  const native = (error as { nativeError?: { code?: unknown } } | null)?.nativeError;
  return native?.code === '23505' || (error as { code?: unknown } | null)?.code === '23505';
}
