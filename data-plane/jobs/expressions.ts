/** Builds DynamoDB update and condition expressions with placeholders for every name and value (many of ours are reserved words). */
import type { KitEvent } from '../events/envelope.js';
import { keys } from './table.js';

export class UpdateExpression {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly conditions: string[] = [];
  private count = 0;

  /** A document path (`a.b`) as placeholders. */
  public name(path: string): string {
    return path
      .split('.')
      .map((part) => {
        const placeholder = `#n${this.count++}`;
        this.names[placeholder] = part;
        return placeholder;
      })
      .join('.');
  }

  public value(value: unknown): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  public set(path: string, value: unknown): this {
    this.sets.push(`${this.name(path)} = ${this.value(value)}`);
    return this;
  }

  /** `SET path = <expression>`, the expression written with `name()` and `value()`. */
  public setExpression(path: string, expression: (e: this) => string): this {
    this.sets.push(`${this.name(path)} = ${expression(this)}`);
    return this;
  }

  public remove(path: string): this {
    this.removes.push(this.name(path));
    return this;
  }

  public condition(condition: (e: this) => string): this {
    this.conditions.push(condition(this));
    return this;
  }

  /** Adds a pending event to the item's outbox map, which must exist already (every item is created with one). */
  public addEvent(event: KitEvent, seq: number): this {
    this.set(`outbox.${event.id}`, outboxEntry(event, seq));
    this.set('outboxShard', keys.outboxShard(event.subject));
    this.setExpression('outboxSince', (e) => `if_not_exists(${e.name('outboxSince')}, ${e.value(event.time)})`);
    return this;
  }

  public build(): { UpdateExpression: string; ConditionExpression?: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
    const parts = [this.sets.length > 0 ? `SET ${this.sets.join(', ')}` : '', this.removes.length > 0 ? `REMOVE ${this.removes.join(', ')}` : ''].filter(Boolean);
    return {
      UpdateExpression: parts.join(' '),
      ...(this.conditions.length > 0 ? { ConditionExpression: this.conditions.map((c) => `(${c})`).join(' AND ') } : {}),
      ExpressionAttributeNames: this.names,
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** One event waiting in an item's outbox: the exact JSON that goes on the stream. */
export interface OutboxEntry {
  /** Orders the events of one item (a job's version when it was written). */
  readonly seq: number;
  readonly time: string;
  readonly partitionKey: string;
  readonly event: string;
}

export function outboxEntry(event: KitEvent, seq: number): OutboxEntry {
  return { seq, time: event.time, partitionKey: event.subject, event: JSON.stringify(event) };
}

/** The outbox attributes of an item created with one pending event. */
export function outboxAttributes(event: KitEvent, seq: number): Record<string, unknown> {
  return { outbox: { [event.id]: outboxEntry(event, seq) }, outboxShard: keys.outboxShard(event.subject), outboxSince: event.time };
}
