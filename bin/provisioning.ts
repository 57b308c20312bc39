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
      // A tier with an account of its own deploys there and brings its own cluster and bucket.
      ...(accountId ? { account: accountId } : { account: platform.accountId, sharedCluster: platform.sharedCluster, dataBucketName: platform.dataBucketName }),
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
  return {
    identity,
    accounts: new OrganizationsAccountProvider({ client: new OrganizationsClient({ region: platform.region }), tenantsOuId }),
    stacks: new CloudFormationStackDeployer({
      // The platform's own stacks with the kit's credentials; a silo's through the role Organizations made in its account.
      clients: ({ accountId, region }) =>
        new CloudFormationClient({
          region,
          ...(accountId && accountId !== platform.accountId
            ? { credentials: fromTemporaryCredentials({ params: { RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`, RoleSessionName: 'saas-kit-provisioning' } }) }
            : {}),
        }),
    }),
    // Silo clusters have private endpoints: their objects go through GitOps from inside the cluster, so
    // only the shared cluster is reached directly (a silo apply fails with a clear error).
    kubernetes: new KubernetesServerSideApplier({ api: KubernetesObjectApi.makeApiClient(kubeConfig) }),
  };
}
