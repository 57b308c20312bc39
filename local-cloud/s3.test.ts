import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalCloudStartError, LocalCloudValidationError, localS3ClientConfig, startLocalS3, type LocalS3 } from './index.js';

async function withClient<T>(s3: LocalS3, use: (client: S3Client) => Promise<T>): Promise<T> {
  const client = new S3Client(localS3ClientConfig(s3));
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}

async function getText(client: S3Client, bucket: string, key: string): Promise<string> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf8')) ?? '';
}

describe('local S3 (s3rver)', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await startLocalS3();
    await withClient(s3, (client) => client.send(new CreateBucketCommand({ Bucket: 'analytics' })));
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('listens on 127.0.0.1 and names the region', () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.region).toBe('us-east-1');
  });

  it('puts and gets objects under day-partitioned keys, and lists them by prefix', async () => {
    await withClient(s3, async (client) => {
      const lines = '{"tenant":"a","logins":3}\n{"tenant":"b","logins":1}\n';
      await client.send(new PutObjectCommand({ Bucket: 'analytics', Key: 'tenant_daily/dt=2026-01-02/part-0.jsonl', Body: lines, ContentType: 'application/x-ndjson' }));
      await client.send(new PutObjectCommand({ Bucket: 'analytics', Key: 'tenant_daily/dt=2026-01-03/part-0.jsonl', Body: '{}\n' }));

      expect(await getText(client, 'analytics', 'tenant_daily/dt=2026-01-02/part-0.jsonl')).toBe(lines);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'analytics', Prefix: 'tenant_daily/dt=2026-01-02/' }));
      expect(listed.Contents?.map((object) => object.Key)).toEqual(['tenant_daily/dt=2026-01-02/part-0.jsonl']);
    });
  });

  it('stores a streamed body byte for byte (no aws-chunked framing kept)', async () => {
    await withClient(s3, async (client) => {
      const body = Readable.from([Buffer.from('hello '), Buffer.from('world')]);
      await client.send(new PutObjectCommand({ Bucket: 'analytics', Key: 'streamed.txt', Body: body, ContentLength: 11 }));
      expect(await getText(client, 'analytics', 'streamed.txt')).toBe('hello world');
    });
  });

  it('rewrites an object in place and deletes in batches', async () => {
    await withClient(s3, async (client) => {
      await client.send(new PutObjectCommand({ Bucket: 'analytics', Key: 'rewritten.json', Body: 'v1' }));
      await client.send(new PutObjectCommand({ Bucket: 'analytics', Key: 'rewritten.json', Body: 'v2' }));
      expect(await getText(client, 'analytics', 'rewritten.json')).toBe('v2');

      const deleted = await client.send(new DeleteObjectsCommand({ Bucket: 'analytics', Delete: { Objects: [{ Key: 'rewritten.json' }] } }));
      expect(deleted.Deleted?.map((object) => object.Key)).toEqual(['rewritten.json']);
      await expect(client.send(new GetObjectCommand({ Bucket: 'analytics', Key: 'rewritten.json' }))).rejects.toThrow(NoSuchKey);
    });
  });
});

describe('local S3 lifecycle', () => {
  let dataDir: string;
  const started: LocalS3[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'local-s3-test-'));
  });

  afterAll(async () => {
    await Promise.all(started.map((s3) => s3.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps buckets and objects when restarted on the same data folder', async () => {
    const first = await startLocalS3({ dataDir });
    started.push(first);
    expect(first.dataDir).toBe(dataDir);
    await withClient(first, async (client) => {
      await client.send(new CreateBucketCommand({ Bucket: 'kept-bucket' }));
      await client.send(new PutObjectCommand({ Bucket: 'kept-bucket', Key: 'a/b.json', Body: '{"kept":true}' }));
    });
    await first.stop();
    expect(existsSync(dataDir)).toBe(true);

    const second = await startLocalS3({ dataDir });
    started.push(second);
    await withClient(second, async (client) => {
      expect(await getText(client, 'kept-bucket', 'a/b.json')).toBe('{"kept":true}');
    });
    await expect(startLocalS3({ dataDir })).rejects.toThrow(LocalCloudStartError);
  });

  it('removes its temporary folder on stop, and stop can be called twice', async () => {
    const s3 = await startLocalS3();
    started.push(s3);
    await withClient(s3, (client) => client.send(new CreateBucketCommand({ Bucket: 'scratch' })));
    expect(existsSync(path.join(s3.dataDir, 'scratch'))).toBe(true);
    await s3.stop();
    await s3.stop();
    expect(existsSync(s3.dataDir)).toBe(false);
  });

  it('rejects a bad port, saying what it received', async () => {
    const attempt = startLocalS3({ port: 65_536 });
    await expect(attempt).rejects.toThrow(LocalCloudValidationError);
    await expect(attempt).rejects.toThrow(/port must be an integer from 0 to 65535, received 65536/);
  });
});
