import { randomUUID } from 'node:crypto';

/**
 * The event catalog: every component of every tier describes what happened with one of these
 * types, wrapped in a CloudEvents 1.0 envelope whose `subject` is the tenant id (the Kinesis
 * partition key). A type's data only ever gains optional fields within a version; a breaking
 * change is a new `dataschema` version that parses alongside the old one.
 */
export interface EventDataByType {
  'tenant.registered': {
    readonly name: string;
    readonly plan: string;
    readonly tier: string;
    readonly reasons: readonly string[];
  };
  'tenant.status_changed': {
    readonly from: string | null;
    readonly to: string;
    readonly reason: string;
  };
  'tenant.plan_changed': {
    readonly fromPlan: string;
    readonly toPlan: string;
    /** Set when the new plan puts the tenant on another tier: provisioning moves it. */
    readonly tierChange: { readonly from: string; readonly to: string } | null;
  };
  'user.created': {
    readonly userId: string;
    readonly email: string;
    readonly role: string;
  };
}

export type EventType = keyof EventDataByType;

export const EVENT_TYPES = [
  'tenant.registered',
  'tenant.status_changed',
  'tenant.plan_changed',
  'user.created',
] as const satisfies readonly EventType[];

/** A CloudEvents 1.0 envelope (structured JSON mode). */
export interface KitEvent<T extends EventType = EventType> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: T;
  readonly time: string;
  /** The tenant the event belongs to. */
  readonly subject: string;
  readonly dataschema: string;
  readonly datacontenttype: 'application/json';
  readonly data: EventDataByType[T];
}

/** The schema URI of a type's current version. */
export function dataSchemaOf(type: EventType, version = 1): string {
  return `urn:saas-tenancy-kit:event:${type}:v${version}`;
}

export interface NewEvent<T extends EventType> {
  readonly type: T;
  /** The emitting component, e.g. `control-plane/tenant-manager`. */
  readonly source: string;
  readonly tenantId: string;
  readonly data: EventDataByType[T];
  /** @default - now */
  readonly time?: Date;
}

export function createEvent<T extends EventType>(event: NewEvent<T>): KitEvent<T> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: event.source,
    type: event.type,
    time: (event.time ?? new Date()).toISOString(),
    subject: event.tenantId,
    dataschema: dataSchemaOf(event.type),
    datacontenttype: 'application/json',
    data: event.data,
  };
}
