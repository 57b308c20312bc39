/**
 * The tier catalog: the one table where pool, bridge and silo differ (convention 2).
 *
 * Charts, stacks, quotas, the policy and prices all read `TIERS`; code elsewhere asks the table
 * (`TIERS[tier].dedicatedCapacity`) instead of testing tier names.
 */

/** Tier names, ordered from least to most isolated. The order is the tier's rank. */
export const TIER_NAMES = ['pool', 'bridge', 'silo'] as const;

/** A tenancy tier. */
export type TierName = (typeof TIER_NAMES)[number];

/** How a tier separates one tenant from the others, from weakest to strongest. */
export const ISOLATION_LEVELS = ['namespace', 'node-group', 'account'] as const;

/** `namespace`: shared nodes; `node-group`: dedicated nodes in the shared cluster; `account`: own AWS account. */
export type Isolation = (typeof ISOLATION_LEVELS)[number];

/** Compliance regimes, from least to most demanding on tenant isolation. */
export const COMPLIANCE_REGIMES = ['soc2', 'hipaa', 'pci'] as const;

/** A compliance regime a tenant may require. */
export type Compliance = (typeof COMPLIANCE_REGIMES)[number];

/**
 * What each regime needs from the platform; the tier policy quotes it in its reasons.
 * The `compliance` lists in `TIERS` encode the same rules.
 */
export const COMPLIANCE_RATIONALE: Readonly<Record<Compliance, string>> = {
  soc2: 'audited access, change and monitoring controls, which every tier has',
  hipaa: 'dedicated compute for protected health information',
  pci: 'account-level segmentation of the cardholder data environment',
};

/** Hard values of the tenant namespace's Kubernetes ResourceQuota, as Kubernetes quantities. */
export interface ResourceQuotaSpec {
  /** `requests.cpu`: sum of CPU requests in the namespace. */
  readonly requestsCpu: string;
  /** `requests.memory`: sum of memory requests in the namespace. */
  readonly requestsMemory: string;
  /** `limits.cpu`: sum of CPU limits; the tenant's vCPU ceiling. */
  readonly limitsCpu: string;
  /** `limits.memory`: sum of memory limits. */
  readonly limitsMemory: string;
  /** `pods`: number of pods. */
  readonly pods: number;
  /** `services`: number of Services. */
  readonly services: number;
  /** `persistentvolumeclaims`: number of PVCs. */
  readonly persistentVolumeClaims: number;
  /** `requests.storage`: sum of PVC storage requests. */
  readonly requestsStorage: string;
  /** `services.loadbalancers`: always 0; tenants reach the outside through the shared ingress only. */
  readonly servicesLoadBalancers: 0;
  /** `services.nodeports`: always 0; a NodePort would open every node to the tenant's service. */
  readonly servicesNodePorts: 0;
}

/** CPU and memory of one container, as Kubernetes quantities. */
export interface ContainerResources {
  /** CPU quantity, e.g. `500m` or `2`. */
  readonly cpu: string;
  /** Memory quantity, e.g. `1Gi`. */
  readonly memory: string;
}

/** The tenant namespace's LimitRange for containers. */
export interface LimitRangeSpec {
  /** Requests given to a container that sets none. */
  readonly defaultRequest: ContainerResources;
  /** Limits given to a container that sets none. */
  readonly default: ContainerResources;
  /** Largest limits one container may ask for; fits on one node of the tier. */
  readonly max: ContainerResources;
}

/** Sizing of an EKS managed node group dedicated to one tenant. */
export interface NodeGroupSpec {
  /** EC2 instance types, all of the same size so scaling math holds whichever is launched. */
  readonly instanceTypes: readonly string[];
  /** vCPU of one node (every entry of `instanceTypes` has this many). */
  readonly vcpuPerNode: number;
  /** Memory of one node in GiB (every entry of `instanceTypes` has this much). */
  readonly memoryGiBPerNode: number;
  /** Fewest nodes the group scales in to. */
  readonly minSize: number;
  /** Nodes the group starts with; the base price assumes this many. */
  readonly desiredSize: number;
  /** Most nodes the group scales out to; `maxSize * vcpuPerNode` is the tier's `maxVcpu`. */
  readonly maxSize: number;
  /** Root EBS volume of each node, GiB. */
  readonly diskSizeGiB: number;
  /** EC2 purchase option; dedicated tenants get ON_DEMAND so their batches are not reclaimed. */
  readonly capacityType: 'ON_DEMAND' | 'SPOT';
}

/** Everything that differs between tiers. */
export interface TierSpec {
  /** Key of the tier in `TIERS`. */
  readonly name: TierName;
  /** Name shown to people. */
  readonly displayName: string;
  /** One line on what the tenant gets. */
  readonly description: string;
  /** Boundary between this tenant and the others. */
  readonly isolation: Isolation;
  /** ResourceQuota hard values of the tenant namespace (every tier has one, silo included, as a guard rail). */
  readonly resourceQuota: ResourceQuotaSpec;
  /** LimitRange of the tenant namespace. */
  readonly limitRange: LimitRangeSpec;
  /** The tenant's dedicated managed node group, or `null` when the tenant runs on shared nodes. */
  readonly nodeGroup: NodeGroupSpec | null;
  /** vCPU the tier can serve for one tenant at peak; equals `resourceQuota.limitsCpu` (and the node group's capacity). */
  readonly maxVcpu: number;
  /** Whether the tenant's pods run on nodes no other tenant uses. */
  readonly dedicatedCapacity: boolean;
  /** Compliance regimes the tier satisfies. */
  readonly compliance: readonly Compliance[];
  /** Whether the tier can be placed in any AWS region (a data-residency requirement); otherwise it lives in the shared cluster's region. */
  readonly runsInAnyRegion: boolean;
  /** Platform cost of hosting the tier per month in USD, added to the plan's price. */
  readonly baseMonthlyPriceUsd: number;
}

export const TIERS: Readonly<Record<TierName, TierSpec>> = {
  pool: {
    name: 'pool',
    displayName: 'Pool',
    description: 'A namespace on the shared nodes of the shared EKS cluster.',
    isolation: 'namespace',
    resourceQuota: {
      requestsCpu: '4',
      requestsMemory: '16Gi',
      limitsCpu: '8',
      limitsMemory: '32Gi',
      pods: 50,
      services: 10,
      persistentVolumeClaims: 10,
      requestsStorage: '200Gi',
      servicesLoadBalancers: 0,
      servicesNodePorts: 0,
    },
    limitRange: {
      defaultRequest: { cpu: '250m', memory: '512Mi' },
      default: { cpu: '500m', memory: '1Gi' },
      max: { cpu: '2', memory: '8Gi' },
    },
    nodeGroup: null,
    // limits.cpu 8: the quota is the only ceiling on shared nodes.
    maxVcpu: 8,
    dedicatedCapacity: false,
    compliance: ['soc2'],
    runsInAnyRegion: false,
    // A slice of the shared cluster: a pool tenant keeps ~0.5 vCPU busy on average (0.5 x 730 h x ~$0.048
    // per m6i vCPU-hour = ~$17) plus its share of the EKS control plane.
    baseMonthlyPriceUsd: 20,
  },
  bridge: {
    name: 'bridge',
    displayName: 'Bridge',
    description: 'A namespace pinned to its own managed node group in the shared EKS cluster.',
    isolation: 'node-group',
    resourceQuota: {
      requestsCpu: '48',
      requestsMemory: '192Gi',
      limitsCpu: '64',
      limitsMemory: '256Gi',
      pods: 300,
      services: 25,
      persistentVolumeClaims: 50,
      requestsStorage: '1Ti',
      servicesLoadBalancers: 0,
      servicesNodePorts: 0,
    },
    limitRange: {
      defaultRequest: { cpu: '500m', memory: '1Gi' },
      default: { cpu: '1', memory: '2Gi' },
      // Fits one 4 vCPU / 16 GiB node after kubelet and system reservations.
      max: { cpu: '3500m', memory: '14Gi' },
    },
    nodeGroup: {
      instanceTypes: ['m6i.xlarge', 'm6a.xlarge'],
      vcpuPerNode: 4,
      memoryGiBPerNode: 16,
      minSize: 1,
      desiredSize: 2,
      maxSize: 16,
      diskSizeGiB: 100,
      capacityType: 'ON_DEMAND',
    },
    // 16 nodes x 4 vCPU = 64 = limits.cpu; limits.memory 256Gi = 16 x 16 GiB.
    maxVcpu: 64,
    dedicatedCapacity: true,
    compliance: ['soc2', 'hipaa'],
    runsInAnyRegion: false,
    // 2 x m6i.xlarge on demand (~$140 each in us-east-1) + 2 x 100 GiB gp3 (~$16) + headroom for scale-out.
    baseMonthlyPriceUsd: 350,
  },
  silo: {
    name: 'silo',
    displayName: 'Silo',
    description: 'Its own AWS account and EKS cluster, in the region the tenant needs.',
    isolation: 'account',
    resourceQuota: {
      requestsCpu: '384',
      requestsMemory: '1536Gi',
      limitsCpu: '512',
      limitsMemory: '2048Gi',
      pods: 2000,
      services: 100,
      persistentVolumeClaims: 200,
      requestsStorage: '10Ti',
      servicesLoadBalancers: 0,
      servicesNodePorts: 0,
    },
    limitRange: {
      defaultRequest: { cpu: '1', memory: '2Gi' },
      default: { cpu: '2', memory: '4Gi' },
      // Fits one 16 vCPU / 64 GiB node after kubelet and system reservations.
      max: { cpu: '15', memory: '60Gi' },
    },
    nodeGroup: {
      instanceTypes: ['m6i.4xlarge', 'm6a.4xlarge'],
      vcpuPerNode: 16,
      memoryGiBPerNode: 64,
      minSize: 2,
      desiredSize: 3,
      maxSize: 32,
      diskSizeGiB: 200,
      capacityType: 'ON_DEMAND',
    },
    // 32 nodes x 16 vCPU = 512 = limits.cpu; limits.memory 2048Gi = 32 x 64 GiB.
    maxVcpu: 512,
    dedicatedCapacity: true,
    compliance: ['soc2', 'hipaa', 'pci'],
    runsInAnyRegion: true,
    // EKS control plane (~$73) + 3 x m6i.4xlarge (~$560 each) + NAT gateways, EBS and the account's
    // security baseline (CloudTrail, Config, GuardDuty), ~$250.
    baseMonthlyPriceUsd: 2000,
  },
};

/** Whether `value` names a tier. */
export function isTierName(value: unknown): value is TierName {
  return typeof value === 'string' && (TIER_NAMES as readonly string[]).includes(value);
}

/** Whether `value` names a compliance regime. */
export function isCompliance(value: unknown): value is Compliance {
  return typeof value === 'string' && (COMPLIANCE_REGIMES as readonly string[]).includes(value);
}

/** Position of the tier from least (0, pool) to most isolated. */
export function tierRank(tier: TierName): number {
  return TIER_NAMES.indexOf(tier);
}

/** Sort comparator: negative when `a` is less isolated than `b`. */
export function compareTiers(a: TierName, b: TierName): number {
  return tierRank(a) - tierRank(b);
}
