import type { Knex } from 'knex';

/** The sweeper deletes Idempotency-Keys past their retention, oldest first: by creation time. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('idempotency_keys', (t) => {
    t.dropIndex(['created_at']);
  });
}
