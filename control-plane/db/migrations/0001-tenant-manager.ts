import type { Knex } from 'knex';

/** Tables a tenant owns: row-level security shows the tenant-scope role only its own rows. */
const TENANT_OWNED = [
  { table: 'tenants', column: 'id' },
  { table: 'tenant_status_changes', column: 'tenant_id' },
  { table: 'tenant_users', column: 'tenant_id' },
  { table: 'subscriptions', column: 'tenant_id' },
  { table: 'billing_records', column: 'tenant_id' },
  { table: 'tier_change_requests', column: 'tenant_id' },
  { table: 'outbox', column: 'tenant_id' },
] as const;

const ROLE = 'saas_tenant_scope';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('plans', (t) => {
    t.text('id').primary();
    t.text('display_name').notNullable();
    t.integer('monthly_price_cents').notNullable();
    t.text('default_tier').notNullable();
    t.specificType('allowed_tiers', 'text[]').notNullable();
    t.integer('max_users').notNullable();
    t.integer('trial_days');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('tenants', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable().unique();
    t.text('display_name').notNullable();
    t.text('plan_id').notNullable().references('plans.id');
    t.text('tier').notNullable();
    t.jsonb('tier_reasons').notNullable();
    t.jsonb('requirements').notNullable();
    t.text('tier_override');
    t.text('status').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.index(['created_at', 'id']);
    t.index(['status']);
  });

  await knex.schema.createTable('tenant_status_changes', (t) => {
    t.bigIncrements('id');
    t.uuid('tenant_id').notNullable().references('tenants.id');
    t.text('from_status');
    t.text('to_status').notNullable();
    t.text('reason').notNullable();
    t.timestamp('changed_at', { useTz: true }).notNullable();
    t.index(['tenant_id', 'id']);
  });

  await knex.schema.createTable('tenant_users', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('tenants.id');
    t.text('email').notNullable();
    t.text('role').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.unique(['tenant_id', 'email']);
  });

  await knex.schema.createTable('subscriptions', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('tenants.id');
    t.text('plan_id').notNullable().references('plans.id');
    t.text('tier').notNullable();
    t.integer('monthly_price_cents').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.index(['tenant_id']);
  });

  await knex.schema.createTable('billing_records', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('tenants.id');
    t.uuid('subscription_id').notNullable().references('subscriptions.id');
    t.date('period_start').notNullable();
    t.date('period_end').notNullable();
    t.integer('amount_cents').notNullable();
    t.text('description').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['tenant_id']);
  });

  await knex.schema.createTable('tier_change_requests', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('tenants.id');
    t.text('from_tier').notNullable();
    t.text('to_tier').notNullable();
    t.text('reason').notNullable();
    t.text('status').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.index(['tenant_id']);
  });

  // Written in the same transaction as the change it describes; a relay ships it to Kinesis.
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id');
    t.uuid('event_id').notNullable().unique();
    t.uuid('tenant_id').notNullable();
    t.text('type').notNullable();
    t.jsonb('event').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('published_at', { useTz: true });
    t.index(['published_at', 'id']);
  });

  // Answers replayed for a repeated Idempotency-Key, per caller.
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('caller').notNullable();
    t.text('key').notNullable();
    t.text('request_hash').notNullable();
    t.integer('status_code');
    t.jsonb('response_body');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.primary(['caller', 'key']);
  });

  // The tenant-scope role is cluster-wide: create it once, tolerate a concurrent creator.
  await knex.raw(`
    DO $$ BEGIN
      CREATE ROLE ${ROLE} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`);
  await knex.raw(`GRANT ${ROLE} TO CURRENT_USER`).catch(ignoreAlreadyMember);
  const schema = await currentSchema(knex);
  await knex.raw(`GRANT USAGE ON SCHEMA ${schema} TO ${ROLE}`);
  await knex.raw(`GRANT SELECT ON plans TO ${ROLE}`);
  for (const { table, column } of TENANT_OWNED) {
    await knex.raw(`GRANT SELECT, INSERT, UPDATE ON ${table} TO ${ROLE}`);
    await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    // An unset tenant setting matches nothing: a forgotten scope fails closed.
    await knex.raw(`
      CREATE POLICY ${table}_tenant_isolation ON ${table}
        USING (${column} = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
        WITH CHECK (${column} = NULLIF(current_setting('app.tenant_id', true), '')::uuid)`);
  }
  await knex.raw(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  // The role outlives the schema: other schemas or databases of the cluster may still use it.
  const schema = await currentSchema(knex);
  await knex.raw(`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${ROLE}`);
  await knex.raw(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${ROLE}`);
  await knex.raw(`REVOKE USAGE ON SCHEMA ${schema} FROM ${ROLE}`);
  for (const table of [
    'idempotency_keys',
    'outbox',
    'tier_change_requests',
    'billing_records',
    'subscriptions',
    'tenant_users',
    'tenant_status_changes',
    'tenants',
    'plans',
  ]) {
    await knex.schema.dropTable(table);
  }
}

/** The schema the migration runs in (the first of the search path), quoted. */
async function currentSchema(knex: Knex): Promise<string> {
  const result: { rows: { schema: string }[] } = await knex.raw('SELECT quote_ident(current_schema()) AS schema');
  const schema = result.rows[0]?.schema;
  if (!schema) throw new Error('The migration found no current schema: check the search_path of the connection.');
  return schema;
}

function ignoreAlreadyMember(error: unknown): void {
  // Granting a role to its own creator or to a member again is not an error worth failing on.
  if (!(error instanceof Error) || !/already a member|is a member|cannot be granted to itself/i.test(error.message)) throw error;
}
