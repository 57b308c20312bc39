import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { decodeJwt } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureKitUserPool, issueLocalToken, startLocalCognito } from '../../local-cloud/index.js';
import { parseEvent } from '../events.js';
import { startTestKinesis, type TestKinesis } from '../private/testing/local-kinesis.js';
import { IdentityEventsConfigError } from './errors.js';
import { LOGIN_EVENT_SOURCE, createLoginEventsHandler, loginEventsConfigFromEnvironment, type LoginEventsConfig } from './login-events.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let kinesis: TestKinesis;
let client: KinesisClient;

beforeAll(async () => {
  kinesis = await startTestKinesis();
  client = kinesis.client({ maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await kinesis?.stop();
});

async function newStream(): Promise<string> {
  const name = `events-${randomUUID().slice(0, 8)}`;
  await kinesis.createStream(name, 2);
  return name;
}

/** A PostAuthentication event as Cognito sends it (and as cognito-local builds it). */
function signIn(attributes: Record<string, string>): PostAuthenticationTriggerEvent {
  return {
    version: '1',
    region: 'us-east-1',
    userPoolId: 'us-east-1_Example',
    userName: randomUUID(),
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client' },
    triggerSource: 'PostAuthentication_Authentication',
    request: { userAttributes: { email_verified: 'true', ...attributes }, newDeviceUsed: false },
    response: {},
  };
}

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}

function handlerFor(config: LoginEventsConfig, logger = pino({ level: 'silent' })) {
  return createLoginEventsHandler(config, { kinesis: client, logger });
}

describe('the PostAuthentication handler against kinesalite', () => {
  it("puts a tenant user's login on the stream as a valid catalog event, keyed by the tenant, and returns the event unchanged", async () => {
    const streamName = await newStream();
    const tenantId = randomUUID();
    const sub = randomUUID();
    const handler = handlerFor({ streamName });
    const trigger = signIn({ sub, email: 'ana@acme.example', 'custom:tenant_id': tenantId });
    const before = structuredClone(trigger);

    const returned = await handler(trigger);
    await handler(signIn({ sub, email: 'ana@acme.example', 'custom:tenant_id': tenantId }));

    expect(returned).toBe(trigger);
    expect(returned).toEqual(before);
    const records = await kinesis.readAll(streamName);
    expect(records.map((record) => record.PartitionKey)).toEqual([tenantId, tenantId]);
    const events = records.map((record) => {
      const parsed = parseEvent(Buffer.from(record.Data ?? []).toString('utf8'));
      if (!parsed.ok) throw new Error(`not a catalog event: ${parsed.detail}`);
      return parsed.event;
    });
    for (const event of events) {
      expect(event).toMatchObject({ type: 'user.login', subject: tenantId, source: LOGIN_EVENT_SOURCE, data: { userId: sub } });
      expect(Math.abs(Date.parse(event.time) - Date.now())).toBeLessThan(10_000);
    }
    // Cognito gives no session id: each sign-in is a session of its own.
    const sessions = events.map((event) => (event.data as { sessionId: string }).sessionId);
    expect(sessions[0]).toMatch(UUID);
    expect(sessions[1]).toMatch(UUID);
    expect(sessions[0]).not.toBe(sessions[1]);
  });

  it("emits nothing for a platform user (no custom:tenant_id)", async () => {
    const streamName = await newStream();
    const { logger, lines } = capturingLogger();
    const trigger = signIn({ sub: randomUUID(), email: 'ops@platform.local' });
    expect(await handlerFor({ streamName }, logger)(trigger)).toBe(trigger);
    expect(await kinesis.readAll(streamName)).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('lets the sign-in succeed when the stream is missing, after a few attempts within the budget, and logs the whole event to replay', async () => {
    const { logger, lines } = capturingLogger();
    const tenantId = randomUUID();
    const sub = randomUUID();
    const handler = handlerFor({ streamName: `missing-${randomUUID().slice(0, 8)}`, maxAttempts: 3, baseDelayMs: 5, budgetMs: 1000 }, logger);
    const trigger = signIn({ sub, 'custom:tenant_id': tenantId });

    const started = Date.now();
    expect(await handler(trigger)).toBe(trigger);
    expect(Date.now() - started).toBeLessThan(1500);

    expect(lines).toHaveLength(1);
    const line = lines[0] as { level: number; attempts: number; partitionKey: string; event: unknown; err: { type: string } };
    expect(line.level).toBe(50);
    expect(line.attempts).toBe(3);
    expect(line.partitionKey).toBe(tenantId);
    expect(line.err.type).toBe('ResourceNotFoundException');
    const replayed = parseEvent(JSON.stringify(line.event));
    expect(replayed.ok && replayed.event).toMatchObject({ type: 'user.login', subject: tenantId, data: { userId: sub } });
  });

  it('gives up at the budget when the stream does not answer at all', async () => {
    // A server that accepts requests and never answers: each attempt is cut by what is left of the budget.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hanging = kinesis.client({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, maxAttempts: 1 });
    try {
      const { logger, lines } = capturingLogger();
      const handler = createLoginEventsHandler({ streamName: 'events', maxAttempts: 5, budgetMs: 300 }, { kinesis: hanging, logger });
      const trigger = signIn({ sub: randomUUID(), 'custom:tenant_id': randomUUID() });
      const started = Date.now();
      expect(await handler(trigger)).toBe(trigger);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(lines).toEqual([expect.objectContaining({ level: 50, msg: expect.stringMatching(/not delivered/) })]);
    } finally {
      hanging.destroy();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('logs and lets the sign-in succeed when the attributes make no valid event', async () => {
    const streamName = await newStream();
    const { logger, lines } = capturingLogger();
    const trigger = signIn({ sub: randomUUID(), 'custom:tenant_id': 'acme' });
    expect(await handlerFor({ streamName }, logger)(trigger)).toBe(trigger);
    expect(await kinesis.readAll(streamName)).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ level: 50, tenantId: 'acme', msg: expect.stringMatching(/no user.login/) })]);
  });
});

describe('the handler as the local Cognito\'s PostAuthentication trigger', () => {
  it("puts a user.login for a tenant user's sign-in, with the user's sub, and none for a platform operator's", async () => {
    const streamName = await newStream();
    const cognito = await startLocalCognito({ triggers: { PostAuthentication: handlerFor({ streamName }) } });
    try {
      const pool = await ensureKitUserPool(cognito);
      const tenantId = randomUUID();
      const token = await issueLocalToken(cognito, pool, { role: 'tenant-user', tenantId });
      await issueLocalToken(cognito, pool, { role: 'platform-admin' });

      const records = await kinesis.readAll(streamName);
      expect(records.map((record) => record.PartitionKey)).toEqual([tenantId]);
      const parsed = parseEvent(Buffer.from(records[0]?.Data ?? []).toString('utf8'));
      expect(parsed.ok && parsed.event).toMatchObject({ type: 'user.login', subject: tenantId, data: { userId: decodeJwt(token.idToken).sub } });
    } finally {
      await cognito.stop();
    }
  });
});

describe('the handler configuration', () => {
  it('reads the stream name from EVENT_STREAM_NAME', () => {
    expect(loginEventsConfigFromEnvironment({ EVENT_STREAM_NAME: 'saas-kit-events' })).toEqual({ streamName: 'saas-kit-events' });
    expect(() => loginEventsConfigFromEnvironment({})).toThrow(/EVENT_STREAM_NAME must name the central event stream/);
  });

  it.each([
    [{ streamName: 'no spaces' }, /streamName must be a Kinesis stream name.*received "no spaces"/],
    [{ streamName: 's', maxAttempts: 0 }, /maxAttempts must be a whole number from 1 to 10; received 0/],
    [{ streamName: 's', budgetMs: 5000 }, /budgetMs must be a whole number from 1 to 4000; received 5000/],
  ] as const)('rejects %o', (config, message) => {
    expect(() => createLoginEventsHandler(config, { kinesis: client })).toThrow(message);
    expect(() => createLoginEventsHandler(config, { kinesis: client })).toThrow(IdentityEventsConfigError);
  });
});
