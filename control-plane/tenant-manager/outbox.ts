import type { Knex } from 'knex';
import { createEvent, type EventType, type NewEvent } from '../../data-plane/index.js';
import { OutboxEvent } from './models/index.js';

export const EVENT_SOURCE = 'control-plane/tenant-manager';

/**
 * Records an event in the outbox inside the caller's transaction: it exists exactly when the
 * change it describes does, whether or not the stream is reachable right now. `source` names the
 * emitting component (the catalog's producer of the type).
 */
export async function recordEvent<T extends EventType>(trx: Knex.Transaction, event: Omit<NewEvent<T>, 'source'>, source: string = EVENT_SOURCE): Promise<void> {
  const envelope = createEvent({ ...event, source });
  await OutboxEvent.query(trx).insert({
    eventId: envelope.id,
    tenantId: envelope.subject,
    type: envelope.type,
    event: envelope as unknown as Record<string, unknown>,
    createdAt: new Date(envelope.time),
  });
}
