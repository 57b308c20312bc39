import { createHash, createHmac } from 'node:crypto';

import { DescribeClusterCommand, EKSClient, EKSServiceException, type Cluster } from '@aws-sdk/client-eks';
// The STS client fromTemporaryCredentials uses inside (the default credentials of EksClusterClients).
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/nested-clients/sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import {
  EKS_TOKEN_PREFIX,
  EksClusterClients,
  ProviderBusyError,
  ProviderConfigurationError,
  ProviderNotFoundError,
  ProviderThrottledError,
  ProviderUnavailableError,
  eksBearerToken,
  type SiloCluster,
  type TenantAccountRole,
} from './index.js';

const ACME: SiloCluster = { accountId: '222222222222', region: 'eu-central-1', tenantName: 'acme' };
const CLUSTER_NAME = 'saas-kit-tenant-acme';
const ROLE_ARN = 'arn:aws:iam::222222222222:role/OrganizationAccountAccessRole';
const T0 = new Date('2026-01-15T10:30:00.000Z');
const CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: 'ASIAEXAMPLEACCESSKEY',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/session+token==',
  expiration: new Date('2026-01-15T11:30:00.000Z'),
};
const ACTIVE: Cluster = {
  name: CLUSTER_NAME,
  status: 'ACTIVE',
  endpoint: 'https://0123456789ABCDEF.gr7.eu-central-1.eks.amazonaws.com',
  certificateAuthority: { data: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64') },
};

const eks = mockClient(EKSClient);
const sts = mockClient(STSClient);
let now = T0;
const roles: TenantAccountRole[] = [];
const eksConfigs: { region: string }[] = [];

/** Clients with fixed credentials (recording the role they were asked for) and the test's clock. */
function clients(overrides: { credentials?: AwsCredentialIdentity; renewAfterMs?: number } = {}): EksClusterClients {
  return new EksClusterClients({
    credentials: (role) => {
      roles.push(role);
      return () => Promise.resolve(overrides.credentials ?? CREDENTIALS);
    },
    eksClient: (config) => {
      eksConfigs.push({ region: config.region });
      return new EKSClient(config);
    },
    clock: () => now,
    ...(overrides.renewAfterMs === undefined ? {} : { renewAfterMs: overrides.renewAfterMs }),
  });
}

function eksError(name: string, fault: 'client' | 'server' = 'client'): EKSServiceException {
  return new EKSServiceException({ name, $fault: fault, $metadata: {}, message: `${name} from the test` });
}

/** The presigned URL inside a token, checking its encoding: base64url without padding. */
function urlOf(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const rfc3986 = (value: string): string => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * SigV4 of a presigned GET written out from the specification (canonical request, string to sign,
 * derived key), independent of @smithy/signature-v4.
 */
function expectedSignature(url: URL, clusterName: string, secretAccessKey: string): string {
  const params = [...url.searchParams.entries()].filter(([key]) => key !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([key, value]) => `${rfc3986(key)}=${rfc3986(value)}`)
    .sort()
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${url.host}\nx-k8s-aws-id:${clusterName}\n`, 'host;x-k8s-aws-id', sha256('')].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
  const [, date, region, service] = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${service}/aws4_request`, sha256(canonicalRequest)].join('\n');
  const key = ['aws4_request'].reduce(
    (k, part) => hmac(k, part),
    [date ?? '', region ?? '', service ?? ''].reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${secretAccessKey}`),
  );
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

beforeEach(() => {
  eks.reset();
  sts.reset();
  now = T0;
  roles.length = 0;
  eksConfigs.length = 0;
});

afterAll(() => {
  eks.restore();
  sts.restore();
});

describe('eksBearerToken', () => {
  it("is a presigned STS GetCallerIdentity of the cluster's region, signed with the cluster's name in x-k8s-aws-id", async () => {
    const token = await eksBearerToken({ clusterName: CLUSTER_NAME, region: 'eu-central-1', credentials: CREDENTIALS, signingDate: T0 });
    const url = urlOf(token);

    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-central-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${CREDENTIALS.accessKeyId}/20260115/eu-central-1/sts/aws4_request`,
      'X-Amz-Date': '20260115T103000Z',
      'X-Amz-Expires': '60',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // aws-iam-authenticator refuses tokens over 4 KiB.
    expect(token.length).toBeLessThan(4096);
  });

  it('carries the signature SigV4 gives, recomputed independently', async () => {
    const token = await eksBearerToken({ clusterName: CLUSTER_NAME, region: 'eu-central-1', credentials: CREDENTIALS, signingDate: T0 });
    const url = urlOf(token);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, CLUSTER_NAME, CREDENTIALS.secretAccessKey));
    // The signature covers the cluster's name: the same URL for another cluster would not verify.
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(expectedSignature(url, 'saas-kit-tenant-globex', CREDENTIALS.secretAccessKey));
  });

  it('is the same for the same input, and has no session token without one', async () => {
    const input = { clusterName: CLUSTER_NAME, region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }, signingDate: T0 };
    const token = await eksBearerToken(input);
    expect(await eksBearerToken(input)).toBe(token);
    const url = urlOf(token);
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, CLUSTER_NAME, 'secret'));
  });

  it("uses the China partition's STS endpoint in a China region", async () => {
    const url = urlOf(await eksBearerToken({ clusterName: CLUSTER_NAME, region: 'cn-north-1', credentials: CREDENTIALS, signingDate: T0 }));
    expect(url.host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});

describe('EksClusterClients', () => {
  it("assumes the tenant account's role, describes the cluster named from the tenant, and connects with its endpoint, CA and a token", async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: ACTIVE });
    const factory = clients();

    const connection = await factory.connection(ACME);

    expect(roles).toEqual([{ roleArn: ROLE_ARN, roleSessionName: 'saas-kit-provisioning', region: 'eu-central-1' }]);
    expect(eksConfigs).toEqual([{ region: 'eu-central-1' }]);
    expect(eks.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input)).toEqual([{ name: CLUSTER_NAME }]);
    expect(connection).toMatchObject({ clusterName: CLUSTER_NAME, server: ACTIVE.endpoint, caData: ACTIVE.certificateAuthority?.data, renewAt: new Date(T0.getTime() + 600_000) });
    const url = urlOf(connection.token);
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260115T103000Z');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, CLUSTER_NAME, CREDENTIALS.secretAccessKey));
  });

  it('by default assumes the role with STS AssumeRole and signs the token with the credentials it returns', async () => {
    sts.on(AssumeRoleCommand, { RoleArn: ROLE_ARN, RoleSessionName: 'saas-kit-provisioning' }).resolves({
      Credentials: { AccessKeyId: 'ASIAASSUMEDROLEKEY01', SecretAccessKey: 'assumed/secret+key', SessionToken: 'assumed-session-token', Expiration: new Date('2026-01-15T11:30:00.000Z') },
    });
    eks.on(DescribeClusterCommand).resolves({ cluster: ACTIVE });
    const factory = new EksClusterClients({ clock: () => now });

    const url = urlOf((await factory.connection(ACME)).token);

    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleArn: ROLE_ARN, RoleSessionName: 'saas-kit-provisioning' }]);
    expect(url.searchParams.get('X-Amz-Credential')).toBe('ASIAASSUMEDROLEKEY01/20260115/eu-central-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('assumed-session-token');
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, CLUSTER_NAME, 'assumed/secret+key'));
  });

  it('names the role of another partition and another role name when configured', () => {
    const factory = new EksClusterClients({ roleName: 'saas-kit-provisioning' });
    expect(factory.roleArn('222222222222', 'us-gov-west-1')).toBe('arn:aws-us-gov:iam::222222222222:role/saas-kit-provisioning');
    expect(factory.roleArn('222222222222', 'cn-north-1')).toBe('arn:aws-cn:iam::222222222222:role/saas-kit-provisioning');
  });

  it('keeps the client and its token until the renewal is due, then describes the cluster and signs again', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: ACTIVE });
    const factory = clients();

    const first = await factory.client(ACME);
    const firstToken = (await factory.connection(ACME)).token;
    now = new Date(T0.getTime() + 599_999);
    expect(await factory.client(ACME)).toBe(first);
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);

    now = new Date(T0.getTime() + 600_000);
    const renewed = await factory.client(ACME);
    expect(renewed).not.toBe(first);
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(2);
    const token = (await factory.connection(ACME)).token;
    expect(token).not.toBe(firstToken);
    expect(urlOf(token).searchParams.get('X-Amz-Date')).toBe('20260115T104000Z');
    // One assumed-role provider per account and region, kept across renewals.
    expect(roles).toHaveLength(1);
  });

  it('renews sooner when the credentials that signed the token expire sooner', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: ACTIVE });
    const factory = clients({ credentials: { ...CREDENTIALS, expiration: new Date(T0.getTime() + 5 * 60_000) } });

    expect((await factory.connection(ACME)).renewAt).toEqual(new Date(T0.getTime() + 4 * 60_000));
    now = new Date(T0.getTime() + 4 * 60_000);
    await factory.client(ACME);
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(2);
  });

  it('caches per cluster: another tenant or account is described on its own', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: ACTIVE });
    const factory = clients();
    await Promise.all([factory.client(ACME), factory.client(ACME), factory.client({ ...ACME, tenantName: 'globex' }), factory.client({ ...ACME, accountId: '333333333333' })]);
    expect(eks.commandCalls(DescribeClusterCommand).map((c) => c.args[0].input.name).sort()).toEqual([CLUSTER_NAME, CLUSTER_NAME, 'saas-kit-tenant-globex']);
    expect(roles.map((role) => role.roleArn)).toEqual([ROLE_ARN, 'arn:aws:iam::333333333333:role/OrganizationAccountAccessRole']);
  });

  it('a cluster still being created is a retryable busy error, and is not cached', async () => {
    eks.on(DescribeClusterCommand).resolvesOnce({ cluster: { ...ACTIVE, status: 'CREATING', endpoint: undefined } }).resolves({ cluster: ACTIVE });
    const factory = clients();

    const attempt = factory.client(ACME);
    await expect(attempt).rejects.toThrow(ProviderBusyError);
    await expect(attempt).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/saas-kit-tenant-acme in account 222222222222 \(eu-central-1\) is CREATING/) });
    await expect(factory.client(ACME)).resolves.toBeDefined();
  });

  it.each([
    ['ResourceNotFoundException', eksError('ResourceNotFoundException'), ProviderNotFoundError, false, /no such cluster.*TenantClusterName/],
    ['AccessDeniedException', eksError('AccessDeniedException'), ProviderConfigurationError, false, /DescribeCluster saas-kit-tenant-acme in account 222222222222.*AccessDeniedException.*Check the credentials/],
    ['ThrottlingException', eksError('ThrottlingException'), ProviderThrottledError, true, /ThrottlingException/],
    ['ServerException', eksError('ServerException', 'server'), ProviderUnavailableError, true, /ServerException/],
  ] as const)('DescribeCluster failing with %s is a %s', async (_name, error, type, retryable, message) => {
    eks.on(DescribeClusterCommand).rejects(error);
    const attempt = clients().client(ACME);
    await expect(attempt).rejects.toThrow(type);
    await expect(attempt).rejects.toMatchObject({ retryable, message: expect.stringMatching(message) });
  });

  it.each(['DELETING', 'FAILED'] as const)('a %s cluster has no API server: not found', async (status) => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { ...ACTIVE, status } });
    await expect(clients().client(ACME)).rejects.toThrow(ProviderNotFoundError);
  });

  it('an ACTIVE cluster without its certificate authority yet is retried', async () => {
    eks.on(DescribeClusterCommand).resolves({ cluster: { ...ACTIVE, certificateAuthority: {} } });
    await expect(clients().client(ACME)).rejects.toThrow(ProviderUnavailableError);
  });

  it('AssumeRole refused is a configuration error naming the role, before any DescribeCluster', async () => {
    sts.on(AssumeRoleCommand).rejects(new STSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: {}, message: 'not authorized to perform sts:AssumeRole' }));
    const attempt = new EksClusterClients({ clock: () => now }).client(ACME);
    await expect(attempt).rejects.toThrow(ProviderConfigurationError);
    await expect(attempt).rejects.toThrow(/STS AssumeRole of arn:aws:iam::222222222222:role\/OrganizationAccountAccessRole failed: AccessDenied/);
    expect(eks.commandCalls(DescribeClusterCommand)).toEqual([]);
  });

  it('refuses a bad cluster location or configuration before any call', async () => {
    const factory = clients();
    await expect(factory.client({ ...ACME, accountId: '2222' })).rejects.toThrow(/accountId must be the tenant's 12-digit AWS account id, received "2222"/);
    await expect(factory.client({ ...ACME, region: 'europe' })).rejects.toThrow(/region must be an AWS region/);
    expect(roles).toEqual([]);
    expect(() => new EksClusterClients({ renewAfterMs: 15 * 60_000 })).toThrow(/renewAfterMs must be more than 0 and at most 840000/);
    expect(() => new EksClusterClients({ roleName: 'role/with/path' })).toThrow(ProviderConfigurationError);
  });
});
