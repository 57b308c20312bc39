import type { Knex } from 'knex';

/** Tables of the provisioning workflow; all tenant-owned, so row-level security applies as in 0001. */
const TENANT_OWNED = ['workflows', 'workflow_steps', 'tenant_resources'] as const;

const ROLE = 'saas_tenant_scope';

export async function up(knex: Knex): Promise<void> {
  // One row per tenant operation (onboard, change_tier, offboard). `seq` orders a tenant's
  // workflows: they run one at a time, oldest first.
  await knex.schema.createTable('workflows', (t) => {
    t.uuid('id').primary();
    t.bigIncrements('seq', { primaryKey: false });
    t.uuid('tenant_id').notNullable().references('tenants.id');
    t.text('kind').notNullable();
    t.text('status').notNullable();
    t.jsonb('input').notNullable();
    t.integer('current_step').notNullable().defaultTo(0);
    t.integer('step_count').notNullable();
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.index(['tenant_id', 'seq']);
    t.index(['status']);
  });

  // The steps of a workflow, in order. `state` is what the step learnt from the outside (a
  // CreateAccount request id, an account id, a stack name), written before the next outside call.
  await knex.schema.createTable('workflow_steps', (t) => {
    t.uuid('workflow_id').notNullable().references('workflows.id').onDelete('CASCADE');
    t.integer('position').notNullable();
    t.uuid('tenant_id').notNullable();
    t.text('name').notNullable();
    t.text('status').notNullable();
    t.jsonb('state').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    // Null until the workflow reaches the step: the claim query then scans only steps that are due.
    t.timestamp('next_attempt_at', { useTz: true });
    t.text('locked_by');
    t.timestamp('locked_until', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.primary(['workflow_id', 'position']);
  });
  await knex.raw(`CREATE INDEX workflow_steps_due ON workflow_steps (next_attempt_at) WHERE status IN ('PENDING', 'RUNNING')`);

  // Every outside resource made for a tenant, written before the call that makes it: offboarding,
  // tier changes and the reconciler find everything to remove from here.
  await knex.schema.createTable('tenant_resources', (t) => {
    t.uuid('tenant_id').notNullable().references('tenants.id');
    t.text('kind').notNullable();
    t.text('name').notNullable();
    t.text('tier');
    t.text('account_id');
    t.text('region');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('removed_at', { useTz: true });
    t.primary(['tenant_id', 'kind', 'name']);
  });

  for (const table of TENANT_OWNED) {
    await knex.raw(`GRANT SELECT, INSERT, UPDATE ON ${table} TO ${ROLE}`);
    await knex.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await knex.raw(`
      CREATE POLICY ${table}_tenant_isolation ON ${table}
        USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
        WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)`);
  }
  // A tenant admin's tier change or offboarding creates its workflow in the tenant's scope.
  await knex.raw(`GRANT USAGE ON SEQUENCE workflows_seq_seq TO ${ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  // Dropping a table drops its grants and policies with it.
  for (const table of ['tenant_resources', 'workflow_steps', 'workflows']) {
    await knex.schema.dropTable(table);
  }
}
