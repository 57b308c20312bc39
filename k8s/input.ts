import { isIP } from 'node:net';
import { TENANT_NAME_PATTERN, TIERS, TIER_NAMES, isTierName, tenantNamespaceName } from '../tenant-tiers/index.js';
import type { TierName, TierSpec } from '../tenant-tiers/index.js';
import { TenantManifestInputError } from './errors.js';
import { tenantAdminGroup } from './names.js';

/** A port the tenant's pods may reach on an egress endpoint. */
export interface EgressPort {
  readonly port: number;
  /** @default 'TCP' */
  readonly protocol?: 'TCP' | 'UDP';
}

/** Addresses outside the namespace that the tenant's pods may open connections to. */
export interface EgressEndpoint {
  /** Names the NetworkPolicy `allow-egress-<name>`: 1-40 characters of a-z, 0-9 and -. */
  readonly name: string;
  /** IPv4 or IPv6 CIDR blocks, e.g. `10.0.0.0/16`. */
  readonly cidrs: readonly string[];
  /** Ports allowed on those blocks; at least one. */
  readonly ports: readonly EgressPort[];
}

/**
 * Egress every tenant gets unless its input says otherwise: HTTPS to the shared VPC, where the
 * interface endpoints of Kinesis, S3 and STS live, so the executor reaches AWS without a NAT path.
 * Deployments whose VPC is not `10.0.0.0/16` pass their own list.
 */
export const DEFAULT_EGRESS_ENDPOINTS: readonly EgressEndpoint[] = [
  { name: 'aws-vpc-endpoints', cidrs: ['10.0.0.0/16'], ports: [{ port: 443, protocol: 'TCP' }] },
];

/** What the charts need to render one tenant's manifests. */
export interface TenantManifestInput {
  /** The tenant's id (uuid); labelled onto every object. */
  readonly tenantId: string;
  /** The tenant's name, 3-40 characters of a-z, 0-9 and -, starting with a letter; names the namespace. */
  readonly tenantName: string;
  /** The tenant's tier; the only thing that decides quotas, limits and placement (through `TIERS`). */
  readonly tier: TierName;
  /** Container image of the job executor, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/executor@sha256:...`. */
  readonly executorImage: string;
  /**
   * Group whose members administer the namespace (bound to the tenant admin Role).
   * @default - `tenant-<tenantName>-admins`
   */
  readonly adminGroup?: string;
  /**
   * Endpoints the tenant's pods may reach besides DNS, their own namespace and the Pod Identity agent.
   * @default DEFAULT_EGRESS_ENDPOINTS
   */
  readonly egress?: readonly EgressEndpoint[];
  /**
   * ARN of the IAM role the Pod Identity association gives the executor's ServiceAccount; recorded as
   * an annotation for operators (the association itself, not the annotation, grants the role).
   * @default - no annotation
   */
  readonly podIdentityRoleArn?: string;
}

/** A validated input with every default filled in. */
export interface ResolvedTenantInput {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly tier: TierName;
  readonly tierSpec: TierSpec;
  readonly namespace: string;
  readonly executorImage: string;
  readonly adminGroup: string;
  readonly egress: readonly EgressEndpoint[];
  readonly podIdentityRoleArn: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// registry/path[:tag][@digest]; whitespace or an empty part would make the kubelet fail later and less clearly.
const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
const EGRESS_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
// Kubernetes group names are free text; refuse only what cannot be a subject name.
const GROUP = /^[^\s:][^\s]{0,253}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Checks the input and fills in defaults; throws `TenantManifestInputError` naming the field to fix. */
export function resolveTenantInput(input: TenantManifestInput): ResolvedTenantInput {
  if (typeof input.tenantId !== 'string' || !UUID.test(input.tenantId)) {
    throw new TenantManifestInputError('tenantId', input.tenantId, 'must be the tenant\'s uuid');
  }
  if (typeof input.tenantName !== 'string' || !TENANT_NAME_PATTERN.test(input.tenantName)) {
    throw new TenantManifestInputError('tenantName', input.tenantName, 'must be 3-40 characters of a-z, 0-9 and -, starting with a letter and not ending with -');
  }
  if (!isTierName(input.tier)) {
    throw new TenantManifestInputError('tier', input.tier, `must be one of ${TIER_NAMES.join(', ')}`);
  }
  if (typeof input.executorImage !== 'string' || !IMAGE.test(input.executorImage)) {
    throw new TenantManifestInputError('executorImage', input.executorImage, 'must be an image reference such as registry/repository:tag or registry/repository@sha256:<digest>');
  }
  const adminGroup = input.adminGroup ?? tenantAdminGroup(input.tenantName);
  if (typeof adminGroup !== 'string' || !GROUP.test(adminGroup) || adminGroup.startsWith('system:')) {
    throw new TenantManifestInputError('adminGroup', input.adminGroup, 'must be a group name without whitespace, not a system: group');
  }
  if (input.podIdentityRoleArn !== undefined && (typeof input.podIdentityRoleArn !== 'string' || !ROLE_ARN.test(input.podIdentityRoleArn))) {
    throw new TenantManifestInputError('podIdentityRoleArn', input.podIdentityRoleArn, 'must be an IAM role ARN, arn:aws:iam::<account>:role/<name>');
  }
  const egress = input.egress ?? DEFAULT_EGRESS_ENDPOINTS;
  checkEgress(egress);
  return {
    tenantId: input.tenantId,
    tenantName: input.tenantName,
    tier: input.tier,
    tierSpec: TIERS[input.tier],
    namespace: tenantNamespaceName(input.tenantName),
    executorImage: input.executorImage,
    adminGroup,
    egress,
    podIdentityRoleArn: input.podIdentityRoleArn ?? null,
  };
}

function checkEgress(egress: readonly EgressEndpoint[]): void {
  if (!isList(egress)) {
    throw new TenantManifestInputError('egress', egress, 'must be a list of endpoints (an empty list allows only DNS, the namespace and the Pod Identity agent)');
  }
  const seen = new Set<string>();
  egress.forEach((endpoint, i) => {
    const at = `egress[${i}]`;
    if (typeof endpoint.name !== 'string' || !EGRESS_NAME.test(endpoint.name)) {
      throw new TenantManifestInputError(`${at}.name`, endpoint.name, 'must be 1-40 characters of a-z, 0-9 and -');
    }
    if (seen.has(endpoint.name)) {
      throw new TenantManifestInputError(`${at}.name`, endpoint.name, 'is used by an earlier endpoint; names must be unique');
    }
    seen.add(endpoint.name);
    if (!isList(endpoint.cidrs) || endpoint.cidrs.length === 0) {
      throw new TenantManifestInputError(`${at}.cidrs`, endpoint.cidrs, 'must list at least one CIDR block');
    }
    endpoint.cidrs.forEach((cidr, j) => {
      if (!isCidr(cidr)) {
        throw new TenantManifestInputError(`${at}.cidrs[${j}]`, cidr, 'must be an IPv4 or IPv6 CIDR block such as 10.0.0.0/16');
      }
    });
    if (!isList(endpoint.ports) || endpoint.ports.length === 0) {
      throw new TenantManifestInputError(`${at}.ports`, endpoint.ports, 'must list at least one port');
    }
    endpoint.ports.forEach((port, j) => {
      if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65535) {
        throw new TenantManifestInputError(`${at}.ports[${j}].port`, port.port, 'must be an integer from 1 to 65535');
      }
      if (port.protocol !== undefined && port.protocol !== 'TCP' && port.protocol !== 'UDP') {
        throw new TenantManifestInputError(`${at}.ports[${j}].protocol`, port.protocol, 'must be TCP or UDP');
      }
    });
  });
}

/** Not a type guard on purpose: the declared element type stays, the check is for untyped callers. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function isCidr(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const [address, prefix, ...rest] = value.split('/');
  if (address === undefined || prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix)) return false;
  const family = isIP(address);
  const bits = Number(prefix);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}
