/**
 * `TenantStack`: one CloudFormation stack per tenant, named `saas-kit-tenant-<name>`. A stack that grew
 * with every tenant would hit CloudFormation's 500-resource cap and couple every tenant's deploys.
 */
import { BootstraplessSynthesizer, CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { TENANT_STACK_OUTPUTS, runsOwnDataPlane, tenantStackName } from './naming.js';
import { TenantInfrastructure, type TenantInfrastructureProps } from './tenant-infrastructure.js';
import { validateEnvironment, validateTenantInfrastructureProps } from './validation.js';

export interface TenantStackProps extends TenantInfrastructureProps {
  /**
   * Account the stack deploys into: the tenant's own account for a tier isolated by account (required
   * then), the platform's otherwise.
   * @default - the platform account the deployment's credentials belong to
   */
  readonly account?: string;
  /** Region the stack deploys into. */
  readonly region: string;
  /**
   * Passed to `Stack`: synthesizer, termination protection and the like. `env` and `stackName` are
   * the tenant's and cannot be overridden.
   * @default - CDK's defaults, except the synthesizer: `BootstraplessSynthesizer`. The stack has no
   * assets, so it needs no CDK bootstrap and deploys into a silo account fresh from Organizations.
   */
  readonly stackProps?: Omit<StackProps, 'env' | 'stackName'>;
}

export class TenantStack extends Stack {
  /** The tenant's resources. */
  public readonly tenant: TenantInfrastructure;

  public constructor(scope: Construct, id: string, props: TenantStackProps) {
    // Before `super`: CDK's own checks of the stack name would otherwise answer first, less clearly.
    validateTenantInfrastructureProps(props);
    validateEnvironment(props.account, props.region, runsOwnDataPlane(props.tier));
    super(scope, id, {
      ...props.stackProps,
      synthesizer: props.stackProps?.synthesizer ?? new BootstraplessSynthesizer(),
      stackName: tenantStackName(props.tenantName),
      env: { account: props.account, region: props.region },
      description: `SaaS Tenancy Kit: tenant ${props.tenantName} (${props.tier})`,
    });
    this.tenant = new TenantInfrastructure(this, 'Tenant', props);

    Tags.of(this).add('saas-kit:tenant-id', props.tenantId);
    Tags.of(this).add('saas-kit:tenant', props.tenantName);
    Tags.of(this).add('saas-kit:tier', props.tier);

    // Output ids are the logical ids the workflow reads: never rename them.
    new CfnOutput(this, TENANT_STACK_OUTPUTS.roleArn, { value: this.tenant.role.roleArn, description: "The tenant's workload role (Pod Identity)" });
    if (this.tenant.nodegroup) {
      new CfnOutput(this, TENANT_STACK_OUTPUTS.nodegroupName, { value: this.tenant.nodegroup.attrNodegroupName, description: "The tenant's dedicated node group" });
    }
    const dataPlane = this.tenant.dataPlane;
    if (dataPlane) {
      new CfnOutput(this, TENANT_STACK_OUTPUTS.clusterName, { value: dataPlane.cluster.clusterName, description: "The tenant's own EKS cluster" });
      new CfnOutput(this, TENANT_STACK_OUTPUTS.bucketName, { value: dataPlane.bucket.bucketName, description: "The tenant's own data bucket" });
      new CfnOutput(this, TENANT_STACK_OUTPUTS.producerRoleArn, { value: dataPlane.producerRole.roleArn, description: 'Add to the central event stream resource policy (StreamProducerAccess)' });
    }
  }
}
