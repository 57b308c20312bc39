/**
 * `synthesizeTenantStack`: the provisioning workflow's way to get a tenant's CloudFormation template.
 * A fresh `App` per call, so tenants never share construct state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { TenantStackInputError, TenantStackSynthesisError } from './errors.js';
import { runsOwnDataPlane, tenantStackName, tenantStackOutputNames, type TenantStackOutputName } from './naming.js';
import { TenantStack, type TenantStackProps } from './tenant-stack.js';
import { validateEnvironment, validateTenantInfrastructureProps } from './validation.js';

export interface SynthesizeTenantStackInput extends TenantStackProps {
  /**
   * Cloud assembly directory; kept after the call.
   * @default - a temporary directory, removed once the template is read
   */
  readonly outdir?: string;
  /**
   * Also check the template against CloudFormation's resource schemas (CDK's built-in validator).
   * Measured on one bridge stack: 6 to 8 s and about 300 MB more for the first synthesis in a process,
   * 150-550 ms for each later one, against about 20 ms without; CloudFormation checks the schemas
   * again when it creates the change set, so the workflow leaves it off and the tests turn it on.
   * @default false
   */
  readonly validateTemplate?: boolean;
}

export interface SynthesizedTenantStack {
  /** `saas-kit-tenant-<name>`. */
  readonly stackName: string;
  /** The CloudFormation template, as JSON. */
  readonly template: Record<string, unknown>;
  /** Outputs the deployed stack has, which the workflow records (see `TENANT_STACK_OUTPUTS`). */
  readonly outputsExpected: TenantStackOutputName[];
}

/** Synthesizes the tenant's stack; throws `TenantStackInputError` on bad input before any CDK work. */
export function synthesizeTenantStack(input: SynthesizeTenantStackInput): SynthesizedTenantStack {
  if (input === null || typeof input !== 'object') {
    throw new TenantStackInputError('input', input, 'must be an object with tenantId, tenantName, tier, region and eventStream');
  }
  validateTenantInfrastructureProps(input);
  validateEnvironment(input.account, input.region, runsOwnDataPlane(input.tier));
  if (input.outdir !== undefined && (typeof input.outdir !== 'string' || input.outdir.length === 0)) {
    throw new TenantStackInputError('outdir', input.outdir, 'must be a directory path, or be left out for a temporary one');
  }

  const stackName = tenantStackName(input.tenantName);
  const outdir = input.outdir ?? mkdtempSync(join(tmpdir(), 'saas-kit-tenant-'));
  try {
    const app = new App({ outdir, analyticsReporting: false, builtinCloudFormationValidation: input.validateTemplate ?? false });
    // The stack reads its own props from the input and ignores `outdir` and `validateTemplate`.
    new TenantStack(app, stackName, input);
    let template: Record<string, unknown>;
    try {
      template = app.synth().getStackByName(stackName).template as Record<string, unknown>;
    } catch (error) {
      throw new TenantStackSynthesisError(stackName, { cause: error });
    }
    return { stackName, template, outputsExpected: tenantStackOutputNames(input.tier) };
  } finally {
    if (input.outdir === undefined) rmSync(outdir, { recursive: true, force: true });
  }
}
