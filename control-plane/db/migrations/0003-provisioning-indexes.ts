import type { Knex } from 'knex';

/**
 * Indexes for the queries that ran over every tenant's workflow steps, so that their cost followed
 * the number of tenants ever onboarded instead of the work at hand.
 */
export async function up(knex: Knex): Promise<void> {
  // Every claim counts the account creations in flight. Without this index the count read every
  // entry of workflow_steps_due (the due steps and, until VACUUM, every superseded version of a
  // step that was once due) to find the few account steps among them.
  await knex.raw(`CREATE INDEX workflow_steps_accounts_in_flight ON workflow_steps (workflow_id) WHERE name = 'account' AND status IN ('PENDING', 'RUNNING')`);
  // A tenant's steps (its workflows' view, and row-level security's tenant_id filter) read the whole table without it.
  await knex.schema.alterTable('workflow_steps', (t) => {
    t.index(['tenant_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workflow_steps', (t) => {
    t.dropIndex(['tenant_id']);
  });
  await knex.raw('DROP INDEX workflow_steps_accounts_in_flight');
}
