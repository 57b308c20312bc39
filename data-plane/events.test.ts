import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  EVENT_TYPES,
  EventValidationError,
  MAX_EVENT_BYTES,
  PARSE_FAILURE_REASONS,
  createEvent,
  dataSchemaOf,
  parseEvent,
  type EventType,
  type KitEvent,
  type ParseFailureReason,
  type ParseResult,
} from './events.js';
import { EVENT_CATALOG } from './events/catalog.js';
import { exampleEvent } from './events/docs.js';
import { envelopeSchema } from './events/envelope.js';
import type { DataVersion } from './events/versions.js';

const TENANT = '5b0b7a43-8f0e-4c55-9f3c-0d3c4f4a2a11';
const TIME = new Date('2024-06-01T12:00:00.000Z');
const SOURCE = 'test/events';

const versionsOf = (type: EventType): readonly DataVersion[] => EVENT_CATALOG[type].versions.all;
const latestOf = (type: EventType): DataVersion => versionsOf(type).at(-1) as DataVersion;
/** Every (type, version) of the catalog. */
const ALL_VERSIONS = EVENT_TYPES.flatMap((type) => versionsOf(type).map((version) => [`${type} v${version.version}`, type, version] as const));

/** Creates an event from the latest example of a type; `data` overrides it. */
function create(type: EventType, data: unknown = latestOf(type).example): KitEvent {
  return createEvent({ type, source: SOURCE, tenantId: TENANT, time: TIME, data } as Parameters<typeof createEvent>[0]);
}

/** A valid record (as a plain object) to break one attribute of. */
function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...exampleEvent('job.started', latestOf('job.started')), ...overrides };
}

function expectOk(result: ParseResult): Extract<ParseResult, { ok: true }> {
  if (!result.ok) expect.fail(`expected the record to parse; got ${result.reason}: ${result.detail}`);
  return result;
}

function expectFailure(result: ParseResult, reason: ParseFailureReason): string {
  if (result.ok) expect.fail(`expected ${reason}; the record parsed`);
  expect(result.reason, result.detail).toBe(reason);
  return result.detail;
}

describe('round trip: createEvent -> JSON -> parseEvent', () => {
  it.each(EVENT_TYPES)('%s', (type) => {
    const event = create(type);
    expect(event).toMatchObject({ specversion: '1.0', type, subject: TENANT, time: TIME.toISOString(), dataschema: dataSchemaOf(type), datacontenttype: 'application/json' });
    const json = JSON.stringify(event);
    for (const input of [json, Buffer.from(json), new TextEncoder().encode(json), JSON.parse(json) as unknown]) {
      const result = expectOk(parseEvent(input));
      expect(result.event).toEqual(event);
      expect(result.receivedVersion).toBe(latestOf(type).version);
      expect(result.extensions).toEqual({});
    }
  });

  it.each(EVENT_TYPES)('%s as created matches its published JSON Schema (the zod envelope it is generated from)', (type) => {
    const event = JSON.parse(JSON.stringify(create(type))) as unknown;
    expect(envelopeSchema(type, dataSchemaOf(type), latestOf(type).schema).safeParse(event).success).toBe(true);
  });
});

describe('examples of every version', () => {
  it.each(ALL_VERSIONS)('%s parses and reads as the latest version', (_name, type, version) => {
    const result = expectOk(parseEvent(JSON.stringify(exampleEvent(type, version))));
    expect(result.receivedVersion).toBe(version.version);
    expect(result.event.dataschema).toBe(dataSchemaOf(type));
    expect(latestOf(type).schema.safeParse(result.event.data).success).toBe(true);
  });
});

describe('versions: job.succeeded v1 and v2 side by side', () => {
  const usage = { jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', durationMs: 95_000, bytesRead: 100, bytesWritten: 10 };
  const v1 = record({ type: 'job.succeeded', dataschema: 'urn:saas-tenancy-kit:event:job.succeeded:v1', data: { ...usage, vcpuSeconds: 190.2504 } });
  const v2 = record({ type: 'job.succeeded', dataschema: 'urn:saas-tenancy-kit:event:job.succeeded:v2', data: { ...usage, vcpuMs: 190_250 } });

  it('producers write v2', () => {
    expect(dataSchemaOf('job.succeeded')).toBe('urn:saas-tenancy-kit:event:job.succeeded:v2');
    expect(create('job.succeeded').dataschema).toBe('urn:saas-tenancy-kit:event:job.succeeded:v2');
  });

  it('a stream mixing both versions reads as one shape, v1 upcast', () => {
    const [fromV1, fromV2] = [v1, v2].map((input) => expectOk(parseEvent(JSON.stringify(input))));
    expect(fromV1?.receivedVersion).toBe(1);
    expect(fromV2?.receivedVersion).toBe(2);
    expect(fromV1?.event.data).toEqual({ ...usage, vcpuMs: 190_250 });
    expect(fromV1?.event.data).toEqual(fromV2?.event.data);
    expect(fromV1?.event.dataschema).toBe('urn:saas-tenancy-kit:event:job.succeeded:v2');
  });

  it('each version is checked against its own schema', () => {
    expectFailure(parseEvent({ ...v2, data: { ...usage, vcpuSeconds: 190.25 } }), 'invalid-data');
    expectFailure(parseEvent({ ...v1, data: { ...usage, vcpuMs: 190_250 } }), 'invalid-data');
    expectFailure(parseEvent({ ...v2, data: { ...usage, vcpuMs: 190.25 } }), 'invalid-data');
  });

  it('a version the catalog does not have yet is unknown-version', () => {
    const detail = expectFailure(parseEvent({ ...v2, dataschema: 'urn:saas-tenancy-kit:event:job.succeeded:v3' }), 'unknown-version');
    expect(detail).toContain('v1 to v2');
  });

  it('the type-level shape is the latest', () => {
    const event = create('job.succeeded');
    if (event.type === 'job.succeeded') expectTypeOf(event.data.vcpuMs).toEqualTypeOf<number>();
  });
});

describe('parseEvent failures: each reason from a concrete record', () => {
  const cases: readonly (readonly [string, unknown, ParseFailureReason])[] = [
    ['truncated JSON', '{"specversion":"1.0","id":', 'malformed-json'],
    ['not JSON at all', 'hello', 'malformed-json'],
    ['bytes that are not UTF-8', Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]), 'malformed-json'],
    ['a JSON array', '[1,2]', 'not-an-envelope'],
    ['JSON null', 'null', 'not-an-envelope'],
    ['a number', 42, 'not-an-envelope'],
    ['undefined', undefined, 'not-an-envelope'],
    ['CloudEvents 0.3', record({ specversion: '0.3' }), 'not-an-envelope'],
    ['no id', record({ id: undefined }), 'not-an-envelope'],
    ['empty source', record({ source: '' }), 'not-an-envelope'],
    ['type not a string', record({ type: 7 }), 'not-an-envelope'],
    ['no time', record({ time: undefined }), 'not-an-envelope'],
    ['time not RFC 3339', record({ time: '01/06/2024 12:00' }), 'not-an-envelope'],
    ['time on a day that does not exist', record({ time: '2023-02-29T12:00:00.000Z' }), 'not-an-envelope'],
    ['data as XML', record({ datacontenttype: 'application/xml' }), 'not-an-envelope'],
    ['no subject', record({ subject: undefined }), 'missing-tenant'],
    ['subject not a UUID', record({ subject: 'acme' }), 'missing-tenant'],
    ['subject in upper case', record({ subject: TENANT.toUpperCase() }), 'missing-tenant'],
    ['a type the catalog does not have', record({ type: 'job.paused', dataschema: 'urn:saas-tenancy-kit:event:job.paused:v1' }), 'unknown-type'],
    ['a type named like an Object.prototype key', record({ type: 'constructor' }), 'unknown-type'],
    ['no dataschema', record({ dataschema: undefined }), 'unknown-version'],
    ['dataschema of another form', record({ dataschema: 'https://example.com/job.started.json' }), 'unknown-version'],
    ['dataschema of another type', record({ dataschema: 'urn:saas-tenancy-kit:event:job.submitted:v1' }), 'unknown-version'],
    ['a future version', record({ dataschema: 'urn:saas-tenancy-kit:event:job.started:v9' }), 'unknown-version'],
    ['no data', record({ data: undefined }), 'invalid-data'],
    ['binary data', { ...record({ data_base64: 'e30=' }), data: undefined }, 'invalid-data'],
    ['data with a negative duration', record({ data: { jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', queuedMs: -1 } }), 'invalid-data'],
    ['data missing a required field', record({ data: { queuedMs: 5 } }), 'invalid-data'],
    ['a string over MAX_EVENT_BYTES', JSON.stringify(record({ padding: 'x'.repeat(MAX_EVENT_BYTES) })), 'oversize'],
    ['bytes over MAX_EVENT_BYTES', Buffer.from(JSON.stringify(record({ padding: 'é'.repeat(MAX_EVENT_BYTES / 2) }))), 'oversize'],
    ['multi-byte text over MAX_EVENT_BYTES in bytes but not in characters', JSON.stringify(record({ padding: '€'.repeat(MAX_EVENT_BYTES / 2) })), 'oversize'],
  ];

  it.each(cases)('%s -> %s', (_name, input, reason) => {
    // JSON.stringify drops the undefined attributes: the record really lacks them.
    const wire = typeof input === 'object' && input !== null && !(input instanceof Uint8Array) ? JSON.stringify(input) : input;
    const detail = expectFailure(parseEvent(wire), reason);
    expect(detail.length).toBeGreaterThan(10);
  });

  it('covers every reason', () => {
    expect(new Set(cases.map(([, , reason]) => reason))).toEqual(new Set(PARSE_FAILURE_REASONS));
  });

  it('says what was received and what is expected', () => {
    expect(expectFailure(parseEvent(record({ subject: 'acme' })), 'missing-tenant')).toBe('subject must be the tenant id, a lower-case UUID; received "acme".');
    expect(expectFailure(parseEvent(record({ data: { jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', queuedMs: -1 } })), 'invalid-data')).toContain(
      'queuedMs: Too small: expected number to be >=0 (received -1)',
    );
  });

  it('never throws, whatever it is handed', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no reading');
        },
      },
    );
    const inputs: unknown[] = [undefined, null, 0, true, 10n, Symbol('x'), () => 1, [], new ArrayBuffer(4), new Uint8Array(), '', '""', '{}', hostile, { specversion: '1.0', id: {}, toString: null }];
    for (const input of inputs) {
      expect(() => parseEvent(input)).not.toThrow();
      expect(parseEvent(input).ok).toBe(false);
    }
  });
});

describe('what readers tolerate', () => {
  it('accepts CloudEvents extension attributes and returns them', () => {
    const result = expectOk(parseEvent(JSON.stringify(record({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', partitionkey: TENANT }))));
    expect(result.extensions).toEqual({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', partitionkey: TENANT });
    expect(result.event).not.toHaveProperty('traceparent');
  });

  it('keeps an attribute named __proto__ a plain extension', () => {
    const result = expectOk(parseEvent(JSON.stringify(record()).replace(/^\{/, '{"__proto__":{"polluted":true},')));
    expect(Object.getPrototypeOf(result.extensions)).toBe(Object.prototype);
    expect(Object.keys(result.extensions)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('drops data fields it does not know (a producer ahead by an optional field)', () => {
    const result = expectOk(parseEvent(record({ data: { jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', queuedMs: 5, priority: 'high' } })));
    expect(result.event.data).toEqual({ jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', queuedMs: 5 });
  });

  it('accepts a record without datacontenttype (CloudEvents: JSON is implied)', () => {
    const result = expectOk(parseEvent(record({ datacontenttype: undefined })));
    expect(result.event.datacontenttype).toBe('application/json');
  });

  it.each([
    ['2024-06-01T14:00:00+02:00', '2024-06-01T12:00:00.000Z'],
    ['2024-06-01T12:00:00Z', '2024-06-01T12:00:00.000Z'],
    ['2024-06-01T12:00:00.123456Z', '2024-06-01T12:00:00.123Z'],
    ['2024-02-29T23:59:59.999-00:30', '2024-03-01T00:29:59.999Z'],
  ])('reads time %s as %s', (time, normalized) => {
    expect(expectOk(parseEvent(record({ time }))).event.time).toBe(normalized);
  });
});

describe('createEvent refuses what the catalog would refuse', () => {
  it('unknown data fields', () => {
    const data = { ...(latestOf('job.started').example as object), priority: 'high' };
    expect(() => create('job.started', data)).toThrow(/job\.started data does not match urn:saas-tenancy-kit:event:job\.started:v1: priority: Unknown field/);
  });

  it('unknown fields in nested objects', () => {
    const data = { fromPlan: 'standard', toPlan: 'premium', tierChange: { from: 'pool', to: 'bridge', reason: 'x' } };
    expect(() => create('tenant.plan_changed', data)).toThrow(/tierChange\.reason: Unknown field/);
  });

  it('invalid data, with the value received and where to look', () => {
    let error: unknown;
    try {
      create('datalake.object.uploaded', { key: 'raw/a.csv', bytes: -1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EventValidationError);
    expect(error).toMatchObject({ name: 'EventValidationError', code: 'invalid-data', type: 'datalake.object.uploaded', issues: [{ path: 'bytes' }] });
    expect((error as Error).message).toBe(
      'datalake.object.uploaded data does not match urn:saas-tenancy-kit:event:datalake.object.uploaded:v1: bytes: Too small: expected number to be >=0 (received -1). ' +
        'Fix the data (docs/events/datalake.object.uploaded.v1.schema.json).',
    );
  });

  it.each([
    ['a plan not in the catalog', 'tenant.registered', { name: 'acme', plan: 'gold', tier: 'pool', reasons: [] }, /plan: Invalid option/],
    ['a tier change that changes nothing', 'tenant.tier_changed', { from: 'pool', to: 'pool' }, /from and to must differ/],
    ['a unit that is not the metric\'s', 'billing.usage.recorded', { metric: 'compute', quantity: 1, unit: 'bytes', period: { start: '2024-06-01T00:00:00Z', end: '2024-06-01T01:00:00Z' } }, /unit: unit must be the metric's/],
    ['a period that ends before it starts', 'billing.usage.recorded', { metric: 'compute', quantity: 1, unit: 'vcpu-ms', period: { start: '2024-06-01T01:00:00Z', end: '2024-06-01T00:00:00Z' } }, /end must be after start/],
    ['fractional bytes', 'datalake.object.uploaded', { key: 'a', bytes: 1.5 }, /bytes: Invalid input: expected int/],
    ['a job without steps', 'job.submitted', { jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', steps: [], requestedVcpu: 1 }, /steps: Too small/],
    ['v1 data of job.succeeded (producers write v2)', 'job.succeeded', { jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', durationMs: 1, vcpuSeconds: 1, bytesRead: 0, bytesWritten: 0 }, /vcpuMs: Invalid input/],
  ] as const)('%s', (_name, type, data, message) => {
    expect(() => create(type, data)).toThrow(message);
  });

  it.each([
    ['unknown-type', { type: 'job.paused', source: SOURCE, tenantId: TENANT, data: {} }, /Unknown event type "job\.paused"/],
    ['missing-tenant', { type: 'job.started', source: SOURCE, tenantId: TENANT.toUpperCase(), data: latestOf('job.started').example }, /tenantId must be the tenant's id, a lower-case UUID; received "5B0B7A43/],
    ['not-an-envelope', { type: 'job.started', source: '', tenantId: TENANT, data: latestOf('job.started').example }, /source must name the emitting component/],
    ['not-an-envelope', { type: 'job.started', source: SOURCE, tenantId: TENANT, time: new Date(Number.NaN), data: latestOf('job.started').example }, /time must be a valid Date/],
    ['oversize', { type: 'tenant.registered', source: SOURCE, tenantId: TENANT, data: { name: 'acme', plan: 'basic', tier: 'pool', reasons: Array.from({ length: 1000 }, () => 'x'.repeat(100)) } }, /over MAX_EVENT_BYTES/],
  ] as const)('%s: %s', (code, event, message) => {
    const attempt = (): unknown => createEvent(event as unknown as Parameters<typeof createEvent>[0]);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(expect.objectContaining({ code }) as unknown);
  });

  it('keeps an id the producer gives (re-emitting the same fact)', () => {
    const event = createEvent({ type: 'job.started', source: SOURCE, tenantId: TENANT, id: 'job-9d3b-started', data: { jobId: '9d3b2f1e-7a6c-4e5d-8b4a-3c2d1e0f9a8b', queuedMs: 5 } });
    expect(event.id).toBe('job-9d3b-started');
  });
});

describe('compatibility with the control plane', () => {
  it('takes the data it has emitted since the foundation, typed as it types it (plans, tiers, statuses and roles as strings)', () => {
    const tenant: { planId: string; tier: string; tierReasons: string[]; name: string } = { planId: 'premium', tier: 'bridge', tierReasons: ['plan premium defaults to bridge'], name: 'acme' };
    const from: string | null = null;
    const tierChange: { fromTier: string; toTier: string } | null = { fromTier: 'pool', toTier: 'bridge' };
    const user: { id: string; email: string; role: 'tenant-admin' | 'tenant-user' } = { id: 'c6f3f1a4-1d2e-4b8a-9a57-3f0e6a1b2c3d', email: 'ada@acme.example', role: 'tenant-admin' };
    const events = [
      createEvent({ type: 'tenant.registered', source: SOURCE, tenantId: TENANT, data: { name: tenant.name, plan: tenant.planId, tier: tenant.tier, reasons: tenant.tierReasons } }),
      createEvent({ type: 'tenant.status_changed', source: SOURCE, tenantId: TENANT, data: { from, to: 'PENDING', reason: 'registered' } }),
      createEvent({ type: 'tenant.plan_changed', source: SOURCE, tenantId: TENANT, data: { fromPlan: 'standard', toPlan: tenant.planId, tierChange: { from: tierChange.fromTier, to: tierChange.toTier } } }),
      createEvent({ type: 'tenant.plan_changed', source: SOURCE, tenantId: TENANT, data: { fromPlan: 'basic', toPlan: 'standard', tierChange: null } }),
      createEvent({ type: 'user.created', source: SOURCE, tenantId: TENANT, data: { userId: user.id, email: user.email, role: user.role } }),
    ];
    for (const event of events) {
      expect(event.dataschema).toMatch(/:v1$/);
      expect(expectOk(parseEvent(JSON.stringify(event))).event).toEqual(event);
    }
  });

  it('types the data readers get narrowly, by type', () => {
    const event = create('tenant.registered');
    if (event.type === 'tenant.registered') {
      expectTypeOf(event.data.tier).toEqualTypeOf<'pool' | 'bridge' | 'silo'>();
      expectTypeOf(event.data.reasons).toEqualTypeOf<readonly string[]>();
    }
  });
});

describe('dataSchemaOf', () => {
  it('names the latest version by default, any version on request', () => {
    expect(dataSchemaOf('tenant.registered')).toBe('urn:saas-tenancy-kit:event:tenant.registered:v1');
    expect(dataSchemaOf('job.succeeded', 1)).toBe('urn:saas-tenancy-kit:event:job.succeeded:v1');
  });

  it('refuses a version the type does not have', () => {
    expect(() => dataSchemaOf('job.succeeded', 3)).toThrow(/job\.succeeded has versions 1 to 2; received version 3/);
  });
});
