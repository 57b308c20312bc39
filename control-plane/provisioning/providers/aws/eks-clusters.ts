/**
 * Clients of silo tenants' own EKS clusters: found by the tenant's name in the tenant's account,
 * reached at the endpoint DescribeCluster gives, and authenticated the way aws-iam-authenticator and
 * `aws eks get-token` do it, with a bearer token that is a presigned STS GetCallerIdentity URL.
 */
import { DescribeClusterCommand, EKSClient, type Cluster } from '@aws-sdk/client-eks';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

import { DEFAULT_PROVISIONING_ROLE_NAME, tenantClusterName } from '../../../../tenant-tiers/index.js';
import { ProviderBusyError, ProviderConfigurationError, ProviderNotFoundError, ProviderUnavailableError } from './errors.js';
import type { KubernetesObjectClient, SiloCluster } from './kubernetes.js';
import { call, fromSdkError, isNamed } from './sdk-errors.js';

/** The role the control plane assumes in a tenant's account, and where. */
export interface TenantAccountRole {
  /** `arn:<partition>:iam::<account>:role/<roleName>`. */
  readonly roleArn: string;
  readonly roleSessionName: string;
  /** The tenant cluster's region (STS is called there). */
  readonly region: string;
}

/** How to reach a silo cluster's API server: what a kubeconfig of it holds. */
export interface EksClusterConnection {
  readonly clusterName: string;
  /** The API server's URL (DescribeCluster `endpoint`). */
  readonly server: string;
  /** The cluster's CA bundle, base64 PEM (DescribeCluster `certificateAuthority.data`). */
  readonly caData: string;
  /** `k8s-aws-v1.<base64url of the presigned STS URL>`. */
  readonly token: string;
  /** When the connection is built again (the token itself lives 15 minutes from its signing). */
  readonly renewAt: Date;
}

export interface EksClusterClientsProps {
  /**
   * Credentials of the role the control plane assumes in a tenant's account; they call DescribeCluster
   * and sign the token, so the cluster sees that role (the one its access entry admits).
   * @default - `fromTemporaryCredentials` (STS AssumeRole with the control plane's own credentials), as for the tenant stack's CloudFormation
   */
  readonly credentials?: (role: TenantAccountRole) => AwsCredentialIdentityProvider;
  /**
   * Name of that role in every tenant account; the tenant stack's `provisioningRoleName` must match.
   * @default 'OrganizationAccountAccessRole'
   */
  readonly roleName?: string;
  /**
   * Session name of the assumed role, as CloudTrail and the cluster's audit log show it.
   * @default 'saas-kit-provisioning'
   */
  readonly roleSessionName?: string;
  /**
   * The EKS client of a tenant account and region.
   * @default - `new EKSClient({ region, credentials })`
   */
  readonly eksClient?: (config: { readonly region: string; readonly credentials: AwsCredentialIdentityProvider }) => EKSClient;
  /**
   * The cluster's name from the tenant's name; the tenant stack names its cluster the same way.
   * @default tenantClusterName (tenant-tiers)
   */
  readonly clusterName?: (tenantName: string) => string;
  /**
   * How long a cluster's client (and its token) is used before it is built again. The API server
   * accepts a token for 15 minutes from its signing; the renewal comes sooner so that no request
   * carries a token about to expire.
   * @default 600000 (10 minutes)
   */
  readonly renewAfterMs?: number;
  /** @default - the system clock */
  readonly clock?: () => Date;
}

/** aws-iam-authenticator's prefix of a version 1 token. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header naming the cluster the token is for; signed, so a token for one cluster is refused by another. */
export const EKS_CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** X-Amz-Expires of the presigned URL: STS ignores it (the URL lives 15 minutes) and authenticators expect at most 60. */
const PRESIGN_EXPIRES_SECONDS = 60;
/** How long the API server accepts a token after its X-Amz-Date. */
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
/** A token is never used in its last minutes, nor signed with credentials about to expire. */
const SAFETY_MARGIN_MS = 60 * 1000;
const DEFAULT_RENEW_AFTER_MS = 10 * 60 * 1000;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
/** Cluster states whose API server answers: ACTIVE, and UPDATING (a version or configuration change in place). */
const SERVING = new Set(['ACTIVE', 'UPDATING']);
/** Cluster states that become ACTIVE by themselves. */
const STARTING = new Set(['CREATING', 'PENDING']);

interface CachedCluster {
  readonly connection: EksClusterConnection;
  readonly client: KubernetesObjectClient;
}

interface AccountClients {
  readonly credentials: AwsCredentialIdentityProvider;
  readonly eks: EKSClient;
}

/**
 * Gives a client of a silo tenant's own cluster, cached per cluster and built again before its token
 * expires. Pass `(cluster) => clients.client(cluster)` as `siloApi` of the KubernetesServerSideApplier.
 */
export class EksClusterClients {
  private readonly credentials: (role: TenantAccountRole) => AwsCredentialIdentityProvider;
  private readonly roleName: string;
  private readonly roleSessionName: string;
  private readonly eksClient: (config: { readonly region: string; readonly credentials: AwsCredentialIdentityProvider }) => EKSClient;
  private readonly clusterName: (tenantName: string) => string;
  private readonly renewAfterMs: number;
  private readonly clock: () => Date;
  private readonly clusters = new Map<string, Promise<CachedCluster>>();
  private readonly accounts = new Map<string, AccountClients>();

  constructor(props: EksClusterClientsProps = {}) {
    this.roleName = props.roleName ?? DEFAULT_PROVISIONING_ROLE_NAME;
    this.roleSessionName = props.roleSessionName ?? 'saas-kit-provisioning';
    this.renewAfterMs = props.renewAfterMs ?? DEFAULT_RENEW_AFTER_MS;
    if (!ROLE_NAME.test(this.roleName)) {
      throw new ProviderConfigurationError(`EksClusterClients: roleName must be an IAM role name (1-64 of letters, digits and +=,.@_-), received ${JSON.stringify(this.roleName)}.`);
    }
    if (!/^[\w+=,.@-]{2,64}$/.test(this.roleSessionName)) {
      throw new ProviderConfigurationError(`EksClusterClients: roleSessionName must be 2-64 of letters, digits and +=,.@_-, received ${JSON.stringify(this.roleSessionName)}.`);
    }
    if (!Number.isFinite(this.renewAfterMs) || this.renewAfterMs <= 0 || this.renewAfterMs > TOKEN_LIFETIME_MS - SAFETY_MARGIN_MS) {
      throw new ProviderConfigurationError(
        `EksClusterClients: renewAfterMs must be more than 0 and at most ${TOKEN_LIFETIME_MS - SAFETY_MARGIN_MS} (a token lives 15 minutes), received ${this.renewAfterMs}.`,
      );
    }
    this.credentials =
      props.credentials ?? ((role) => fromTemporaryCredentials({ params: { RoleArn: role.roleArn, RoleSessionName: role.roleSessionName }, clientConfig: { region: role.region } }));
    this.eksClient = props.eksClient ?? ((config) => new EKSClient({ region: config.region, credentials: config.credentials }));
    this.clusterName = props.clusterName ?? tenantClusterName;
    this.clock = props.clock ?? (() => new Date());
  }

  /** A client of the tenant's cluster; the same one until its renewal is due. */
  async client(cluster: SiloCluster): Promise<KubernetesObjectClient> {
    return (await this.cached(cluster)).client;
  }

  /** The endpoint, CA and token the client uses (for a kubeconfig, or a look at what the cluster is sent). */
  async connection(cluster: SiloCluster): Promise<EksClusterConnection> {
    return (await this.cached(cluster)).connection;
  }

  /** The ARN of the role assumed in `accountId`, in the partition of `region`. */
  roleArn(accountId: string, region: string): string {
    return `arn:${partitionOf(region)}:iam::${accountId}:role/${this.roleName}`;
  }

  private async cached(cluster: SiloCluster): Promise<CachedCluster> {
    const clusterName = this.checkedClusterName(cluster);
    const key = `${cluster.accountId}/${cluster.region}/${clusterName}`;
    const pending = this.clusters.get(key);
    if (pending !== undefined) {
      const entry = await pending.catch(() => undefined);
      if (entry !== undefined && this.clock().getTime() < entry.connection.renewAt.getTime()) return entry;
      // Another caller may have started the renewal while this one waited: share it.
      const current = this.clusters.get(key);
      if (current !== undefined && current !== pending) return await current;
    }
    const building = this.build(cluster, clusterName);
    this.clusters.set(key, building);
    // A failed build is not kept: the next call tries again.
    building.catch(() => {
      if (this.clusters.get(key) === building) this.clusters.delete(key);
    });
    return await building;
  }

  private checkedClusterName(cluster: SiloCluster): string {
    if (!ACCOUNT_ID.test(cluster.accountId)) {
      throw new ProviderConfigurationError(`EksClusterClients: accountId must be the tenant's 12-digit AWS account id, received ${JSON.stringify(cluster.accountId)}.`);
    }
    if (!REGION.test(cluster.region)) {
      throw new ProviderConfigurationError(`EksClusterClients: region must be an AWS region such as eu-central-1, received ${JSON.stringify(cluster.region)}.`);
    }
    const name = this.clusterName(cluster.tenantName);
    if (!CLUSTER_NAME.test(name)) {
      throw new ProviderConfigurationError(`EksClusterClients: the cluster name of tenant ${JSON.stringify(cluster.tenantName)} is ${JSON.stringify(name)}, not an EKS cluster name (1-100 of letters, digits, - and _).`);
    }
    return name;
  }

  private account(accountId: string, region: string): AccountClients {
    const key = `${accountId}/${region}`;
    let clients = this.accounts.get(key);
    if (clients === undefined) {
      // One credentials provider per account and region: it keeps the assumed session until it nears its expiry.
      const credentials = this.credentials({ roleArn: this.roleArn(accountId, region), roleSessionName: this.roleSessionName, region });
      clients = { credentials, eks: this.eksClient({ region, credentials }) };
      this.accounts.set(key, clients);
    }
    return clients;
  }

  private async build(cluster: SiloCluster, clusterName: string): Promise<CachedCluster> {
    const { credentials, eks } = this.account(cluster.accountId, cluster.region);
    const where = `${clusterName} in account ${cluster.accountId} (${cluster.region})`;
    const identity = await call('STS', `AssumeRole of ${this.roleArn(cluster.accountId, cluster.region)}`, () => credentials());
    let described: Cluster | undefined;
    try {
      described = (await eks.send(new DescribeClusterCommand({ name: clusterName }))).cluster;
    } catch (error) {
      if (isNamed(error, 'ResourceNotFoundException')) {
        throw new ProviderNotFoundError(
          `EKS DescribeCluster ${where}: no such cluster. The tenant stack names it (output TenantClusterName) and must be deployed in that account and region first.`,
          { cause: error },
        );
      }
      throw fromSdkError('EKS', `DescribeCluster ${where}`, error);
    }
    const status = described?.status ?? 'unknown';
    if (STARTING.has(status)) {
      throw new ProviderBusyError(`EKS cluster ${where} is ${status}: its API server answers once it is ACTIVE.`);
    }
    if (!SERVING.has(status)) {
      throw new ProviderNotFoundError(`EKS cluster ${where} is ${status}: it has no API server to apply to. Deploy the tenant stack again.`);
    }
    const server = described?.endpoint;
    const caData = described?.certificateAuthority?.data;
    if (!server || !caData) {
      throw new ProviderUnavailableError(`EKS cluster ${where} is ${status} but DescribeCluster gave no ${server ? 'certificate authority' : 'endpoint'} yet.`);
    }
    const signedAt = this.clock();
    const token = await eksBearerToken({ clusterName, region: cluster.region, credentials: identity, signingDate: signedAt });
    // Built again after renewAfterMs, or sooner when the credentials that signed the token expire sooner.
    const renewAt = Math.min(signedAt.getTime() + this.renewAfterMs, (identity.expiration?.getTime() ?? Infinity) - SAFETY_MARGIN_MS);
    const connection: EksClusterConnection = { clusterName, server, caData, token, renewAt: new Date(renewAt) };
    return { connection, client: kubernetesClientOf(connection) };
  }
}

/**
 * The bearer token of an EKS cluster, as aws-iam-authenticator (`token.go`) and `aws eks get-token`
 * make it: STS GetCallerIdentity at the region's endpoint, presigned with SigV4 (X-Amz-Expires 60)
 * with the cluster's name in the signed header `x-k8s-aws-id`, and the URL base64url-encoded without
 * padding after `k8s-aws-v1.`. The cluster calls the URL, adding that header, to learn who signed it.
 */
export async function eksBearerToken(input: {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  readonly signingDate: Date;
}): Promise<string> {
  const hostname = stsHostname(input.region);
  const signer = new SignatureV4({ credentials: input.credentials, region: input.region, service: 'sts', sha256: Hash.bind(null, 'sha256') });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      // Only x-amz-* headers would move to the query; this one stays a signed header, as the authenticator requires.
      headers: { host: hostname, [EKS_CLUSTER_ID_HEADER]: input.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: input.signingDate },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string').map((v) => `${uriEncode(key)}=${uriEncode(v)}`))
    .sort()
    .join('&');
  return EKS_TOKEN_PREFIX + Buffer.from(`https://${hostname}/?${query}`, 'utf8').toString('base64url');
}

/** The regional STS endpoint's host (aws-iam-authenticator accepts the regional endpoints of the partition). */
function stsHostname(region: string): string {
  return `sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** RFC 3986 encoding, as SigV4 canonicalizes query strings. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** client-node's object API over the cluster's endpoint, verifying its certificate against the cluster's CA, with the token. */
function kubernetesClientOf(connection: EksClusterConnection): KubernetesObjectClient {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: connection.clusterName, server: connection.server, caData: connection.caData, skipTLSVerify: false }],
    users: [{ name: 'saas-kit-provisioning', token: connection.token }],
    contexts: [{ name: connection.clusterName, cluster: connection.clusterName, user: 'saas-kit-provisioning' }],
    currentContext: connection.clusterName,
  });
  return KubernetesObjectApi.makeApiClient(config);
}
