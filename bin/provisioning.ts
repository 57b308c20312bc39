/**
 * The provisioning workflow's dependencies, composed for where the kit runs: the tenant stack and
 * charts from tenant-tiers and k8s, and the providers, local (npm start) or AWS.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import {
  CloudFormationStackDeployer,
  CognitoIdentityProvider,
  EksClusterClients,
  KubernetesServerSideApplier,
  OrganizationsAccountProvider,
  createLocalProviders,
  k8sManifests,
  type ProvisioningDeps,
  type Providers,
  type SynthesizeStack,
} from '../control-plane/index.js';
import { synthesizeTenantStack } from '../tenant-tiers/infra/index.js';

/** What the tenant stacks import from the platform: its account, the shared cluster, the tenants' bucket, the central stream. */
export interface PlatformDescription {
  readonly accountId: string;
  readonly region: string;
  readonly sharedCluster: { readonly clusterName: string; readonly nodeRoleArn: string; readonly subnetIds: readonly string[] };
  readonly dataBucketName: string;
  readonly eventStream: { readonly streamArn: string; readonly encryptionKeyArn?: string };
  /**
   * The control plane's egress CIDRs: a silo cluster's API endpoint is public to these only (and private).
   * Unset: silo endpoints stay private, and the control plane must reach each silo VPC privately (docs/aws-providers.md).
   */
  readonly controlPlaneCidrs?: readonly string[];
}

export interface ProvisioningConfig {
  readonly platform: PlatformDescription;
  /** Image of the tenant's job executor (this kit, running `saas-kit executor`). */
  readonly executorImage: string;
  /**
   * `local`: Organizations, CloudFormation and Kubernetes simulated under `dataDir` (the stack deployed as
   * its synthesized template, Kubernetes as the GitOps folder `manifests/`). `aws`: the real services.
   */
  readonly providers:
    | { readonly mode: 'local'; readonly dataDir: string; readonly accountCreationDelayMs: number; readonly stackDeployDelayMs: number }
    | { readonly mode: 'aws'; readonly tenantsOuId: string };
}

/** Synthesizes a tenant's stack against the platform it imports from. */
export function tenantStackSynthesizer(platform: PlatformDescription): SynthesizeStack {
  return ({ tenant, region, accountId }) =>
    synthesizeTenantStack({
      tenantId: tenant.tenantId,
      tenantName: tenant.tenantName,
      tier: tenant.tier,
      region,
      eventStream: platform.eventStream,
      // A tier with an account of its own deploys there and brings its own cluster and bucket, reached by the control plane.
      ...(accountId
        ? { account: accountId, ...(platform.controlPlaneCidrs ? { controlPlaneCidrs: platform.controlPlaneCidrs } : {}) }
        : { account: platform.accountId, sharedCluster: platform.sharedCluster, dataBucketName: platform.dataBucketName }),
    });
}

/** Everything `startProvisioningWorkers` needs besides the database, logger and concurrency. */
export function provisioningDeps(config: ProvisioningConfig, cognito: { readonly client: CognitoIdentityProviderClient; readonly userPoolId: string }): ProvisioningDeps {
  const identity = new CognitoIdentityProvider({ client: cognito.client, userPoolId: cognito.userPoolId });
  const providers: Providers =
    config.providers.mode === 'local'
      ? createLocalProviders({
          dataDir: config.providers.dataDir,
          identity,
          organizations: { creationDelayMs: config.providers.accountCreationDelayMs },
          stacks: { delayMs: config.providers.stackDeployDelayMs },
        })
      : awsProviders(config.platform, config.providers.tenantsOuId, identity);
  return { providers, synthesizeStack: tenantStackSynthesizer(config.platform), region: config.platform.region, ...k8sManifests({ executorImage: config.executorImage }) };
}

function awsProviders(platform: PlatformDescription, tenantsOuId: string, identity: CognitoIdentityProvider): Providers {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  // A silo's cluster through the same role as its stack (OrganizationAccountAccessRole), which the stack's access entry admits.
  const siloClusters = new EksClusterClients();
  return {
    identity,
    accounts: new OrganizationsAccountProvider({ client: new OrganizationsClient({ region: platform.region }), tenantsOuId }),
    stacks: new CloudFormationStackDeployer({
      // The platform's own stacks with the kit's credentials; a silo's through the role Organizations made in its account.
      clients: ({ accountId, region }) =>
        new CloudFormationClient({
          region,
          ...(accountId && accountId !== platform.accountId
            ? { credentials: fromTemporaryCredentials({ params: { RoleArn: siloClusters.roleArn(accountId, region), RoleSessionName: 'saas-kit-provisioning' } }) }
            : {}),
        }),
    }),
    // The shared cluster through the default kubeconfig; a silo's own cluster found by DescribeCluster in its account.
    kubernetes: new KubernetesServerSideApplier({ api: KubernetesObjectApi.makeApiClient(kubeConfig), siloApi: (cluster) => siloClusters.client(cluster) }),
  };
}
