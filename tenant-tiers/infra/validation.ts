/** Early checks of tenant stack input (convention 4): each failure names the field, the value and the fix. */
import { TIERS, isTierName } from '../tiers.js';
import { TenantStackInputError } from './errors.js';
import { TENANT_NAME_PATTERN, runsOwnDataPlane } from './naming.js';
import type { TenantInfrastructureProps } from './tenant-infrastructure.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;
const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[A-Za-z0-9_.-]{1,128}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
// IAM role names: 1-64 of letters, digits and +=,.@_-.
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
/** EKS's limit on the CIDRs of a public endpoint. */
const MAX_PUBLIC_ACCESS_CIDRS = 40;
// S3 bucket naming rules, without the dotted names that break virtual-hosted TLS.
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

function check(ok: boolean, field: string, received: unknown, fix: string): void {
  if (!ok) throw new TenantStackInputError(field, received, fix);
}

function matches(pattern: RegExp, value: unknown): boolean {
  return typeof value === 'string' && pattern.test(value);
}

/** Throws a `TenantStackInputError` for the first thing wrong in `props`. */
export function validateTenantInfrastructureProps(props: TenantInfrastructureProps): void {
  check(isTierName(props.tier), 'tier', props.tier, `must be one of ${Object.keys(TIERS).join(', ')}`);
  check(matches(TENANT_NAME_PATTERN, props.tenantName), 'tenantName', props.tenantName, 'must be 3-40 characters of a-z, 0-9 and -, starting with a letter and ending with a letter or digit');
  check(matches(TENANT_ID, props.tenantId), 'tenantId', props.tenantId, 'must be the tenant id (letters, digits and -, at most 63 characters), e.g. its uuid');
  if (props.namespace !== undefined) {
    check(matches(DNS_LABEL, props.namespace), 'namespace', props.namespace, 'must be a DNS label of at most 63 characters (a-z, 0-9, -)');
  }
  if (props.serviceAccountName !== undefined) {
    check(matches(DNS_LABEL, props.serviceAccountName), 'serviceAccountName', props.serviceAccountName, 'must be a DNS label of at most 63 characters (a-z, 0-9, -)');
  }
  check(matches(STREAM_ARN, props.eventStream?.streamArn), 'eventStream.streamArn', props.eventStream?.streamArn, 'must be the central Kinesis stream ARN, arn:aws:kinesis:<region>:<account>:stream/<name>');
  if (props.eventStream.encryptionKeyArn !== undefined) {
    check(matches(KMS_KEY_ARN, props.eventStream.encryptionKeyArn), 'eventStream.encryptionKeyArn', props.eventStream.encryptionKeyArn, 'must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>, or be left out when the stream uses no customer managed key');
  }

  if (runsOwnDataPlane(props.tier)) {
    // Own account: nothing of the platform's cluster or bucket is used, so nothing of it may be passed by mistake.
    check(props.sharedCluster === undefined, 'sharedCluster', props.sharedCluster, `must be left out for tier ${props.tier}: its tenant runs its own cluster`);
    check(props.dataBucketName === undefined, 'dataBucketName', props.dataBucketName, `must be left out for tier ${props.tier}: its tenant gets its own bucket`);
    if (props.kubernetesVersion !== undefined) {
      check(matches(/^1\.\d{2}$/, props.kubernetesVersion), 'kubernetesVersion', props.kubernetesVersion, 'must be an EKS Kubernetes version such as 1.33');
    }
    if (props.controlPlaneCidrs !== undefined) validateControlPlaneCidrs(props.controlPlaneCidrs);
    if (props.provisioningRoleName !== undefined) {
      check(matches(ROLE_NAME, props.provisioningRoleName), 'provisioningRoleName', props.provisioningRoleName, 'must be an IAM role name (1-64 of letters, digits and +=,.@_-), or be left out for OrganizationAccountAccessRole');
    }
    return;
  }
  check(props.controlPlaneCidrs === undefined, 'controlPlaneCidrs', props.controlPlaneCidrs, `must be left out for tier ${props.tier}: its tenant runs on the shared cluster, whose endpoint is the platform's`);
  check(props.provisioningRoleName === undefined, 'provisioningRoleName', props.provisioningRoleName, `must be left out for tier ${props.tier}: its tenant has no account of its own`);
  const cluster = props.sharedCluster;
  check(cluster !== undefined, 'sharedCluster', cluster, `is required for tier ${props.tier}: pass the shared cluster's name, node role ARN and subnet ids`);
  if (cluster === undefined) return;
  check(matches(CLUSTER_NAME, cluster.clusterName), 'sharedCluster.clusterName', cluster.clusterName, 'must be the EKS cluster name (letters, digits, - and _, at most 100)');
  check(matches(ROLE_ARN, cluster.nodeRoleArn), 'sharedCluster.nodeRoleArn', cluster.nodeRoleArn, 'must be the ARN of the IAM role of the cluster nodes, arn:aws:iam::<account>:role/<name>');
  check(Array.isArray(cluster.subnetIds) && cluster.subnetIds.length > 0, 'sharedCluster.subnetIds', cluster.subnetIds, 'must list at least one private subnet id of the cluster');
  cluster.subnetIds.forEach((id, i) => check(matches(SUBNET_ID, id), `sharedCluster.subnetIds.${i}`, id, 'must be a subnet id, subnet-<hex>'));
  check(matches(BUCKET_NAME, props.dataBucketName), 'dataBucketName', props.dataBucketName, `is required for tier ${props.tier}: the platform data bucket holding tenants/<tenantId>/ (3-63 characters, a-z, 0-9, -)`);
  check(props.kubernetesVersion === undefined, 'kubernetesVersion', props.kubernetesVersion, `must be left out for tier ${props.tier}: the shared cluster's version is the platform's`);
}

/** Checks a stack environment: the account a tenant stack deploys into and its region. */
export function validateEnvironment(account: unknown, region: unknown, ownAccount: boolean): void {
  if (ownAccount) {
    check(matches(ACCOUNT_ID, account), 'account', account, "must be the tenant's own 12-digit AWS account id: this tier deploys into it");
  } else if (account !== undefined) {
    check(matches(ACCOUNT_ID, account), 'account', account, 'must be a 12-digit AWS account id, or be left out');
  }
  check(matches(REGION, region), 'region', region, 'must be an AWS region such as us-east-1');
}

/**
 * Checks the CIDRs of a silo cluster's public endpoint: IPv4 network addresses, at least one, at most
 * 40, never the whole internet. Throws a `TenantStackInputError` naming the first one wrong and the fix.
 */
export function validateControlPlaneCidrs(cidrs: readonly string[]): void {
  check(Array.isArray(cidrs) && cidrs.length > 0, 'controlPlaneCidrs', cidrs, "must list at least one IPv4 CIDR of the control plane, or be left out to keep the cluster's endpoint private");
  check(cidrs.length <= MAX_PUBLIC_ACCESS_CIDRS, 'controlPlaneCidrs', cidrs, `must list at most ${MAX_PUBLIC_ACCESS_CIDRS} CIDRs (EKS's limit): merge them into wider ones`);
  cidrs.forEach((cidr, i) => {
    const field = `controlPlaneCidrs.${i}`;
    const parts = typeof cidr === 'string' ? IPV4_CIDR.exec(cidr) : null;
    const numbers = parts ? parts.slice(1).map(Number) : [];
    const [a = 0, b = 0, c = 0, d = 0, prefix = 0] = numbers;
    check(parts !== null && [a, b, c, d].every((octet) => octet <= 255) && prefix <= 32, field, cidr, 'must be an IPv4 CIDR such as 203.0.113.0/24');
    check(prefix > 0, field, cidr, "must not open the cluster's endpoint to the whole internet: list the control plane's own addresses, e.g. its NAT gateways' as x.x.x.x/32");
    const address = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
    const mask = prefix === 32 ? 0xffffffff : (~(0xffffffff >>> prefix)) >>> 0;
    const network = (address & mask) >>> 0;
    check(network === address, field, cidr, `must be a network address: use ${[network >>> 24, (network >>> 16) & 255, (network >>> 8) & 255, network & 255].join('.')}/${prefix}`);
  });
}
