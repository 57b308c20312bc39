/**
 * Stand-ins for the tests: an in-memory identity provider (Cognito's AWS provider is tested on its
 * own), real-shaped synthesizers and renderers until the k8s and tenant-tiers ones are wired, and
 * provider wrappers that count calls or kill the worker after a given call.
 */
import { TIERS, tenantStackName } from '../../../tenant-tiers/index.js';
import type { RenderManifests, SynthesizeStack, ValidateManifests } from '../options.js';
import type { IdentityProvider, Providers, TenantIdentity, TenantRef } from '../providers.js';

/** Cognito in memory: one group per tenant with its admin user. */
export class FakeIdentity implements IdentityProvider {
  readonly groups = new Map<string, TenantIdentity & { readonly email: string; readonly tenantId: string }>();
  /** Groups created from nothing, per tenant name. */
  readonly creations = new Map<string, number>();

  ensureTenantIdentity(tenant: TenantRef, admin: { readonly email: string }): Promise<TenantIdentity> {
    let group = this.groups.get(tenant.tenantName);
    if (!group) {
      group = { groupName: `tenant-${tenant.tenantName}`, adminUsername: admin.email, email: admin.email, tenantId: tenant.tenantId };
      this.groups.set(tenant.tenantName, group);
      this.creations.set(tenant.tenantName, (this.creations.get(tenant.tenantName) ?? 0) + 1);
    }
    return Promise.resolve({ groupName: group.groupName, adminUsername: group.adminUsername });
  }

  tenantIdentityExists(tenant: TenantRef): Promise<boolean> {
    return Promise.resolve(this.groups.has(tenant.tenantName));
  }

  removeTenantIdentity(tenant: TenantRef): Promise<void> {
    this.groups.delete(tenant.tenantName);
    return Promise.resolve();
  }
}

/** One stack per tenant and tier, with the tier's node group where it has dedicated capacity. */
export const synthesizeStack: SynthesizeStack = ({ tenant, region, accountId }) => {
  const spec = TIERS[tenant.tier];
  const resources: Record<string, unknown> = {
    TenantRole: { Type: 'AWS::IAM::Role', Properties: { Tags: [{ Key: 'saas-tenancy-kit:tenant-id', Value: tenant.tenantId }] } },
  };
  if (spec.nodeGroup) {
    resources.NodeGroup = {
      Type: 'AWS::EKS::Nodegroup',
      Properties: { InstanceTypes: [...spec.nodeGroup.instanceTypes], ScalingConfig: { MinSize: spec.nodeGroup.minSize, DesiredSize: spec.nodeGroup.desiredSize, MaxSize: spec.nodeGroup.maxSize } },
    };
  }
  return {
    // The real stack's name: one per tenant whatever its tier, so a tier change updates it in place
    // or, for a silo, makes a namesake in the tenant's own account.
    stackName: tenantStackName(tenant.tenantName),
    template: { Resources: resources, Outputs: { RoleArn: { Value: { 'Fn::GetAtt': ['TenantRole', 'Arn'] } }, Region: { Value: region }, ...(accountId ? { Account: { Value: accountId } } : {}) } },
  };
};

/** The namespace, its quota, and the executor (pinned to the tenant's nodes where the tier has them). */
export const renderManifests: RenderManifests = ({ tenant }) => {
  const spec = TIERS[tenant.tier];
  const namespace = tenant.tenantName;
  const labels = { 'saas-tenancy-kit/tenant': tenant.tenantName, 'saas-tenancy-kit/tier': tenant.tier };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'tenant-quota', namespace }, spec: { hard: { pods: String(spec.resourceQuota.pods), 'limits.cpu': spec.resourceQuota.limitsCpu } } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'job-executor', namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            ...(spec.dedicatedCapacity ? { nodeSelector: { 'saas-tenancy-kit/tenant': tenant.tenantName } } : {}),
            containers: [{ name: 'executor', image: 'saas-tenancy-kit/executor:1' }],
          },
        },
      },
    },
  ];
};

/** Rejects an object without apiVersion, kind or name. */
export const validateManifests: ValidateManifests = (objects) => {
  for (const object of objects) {
    if (!object.apiVersion || !object.kind || !object.metadata?.name) throw new Error(`object ${JSON.stringify(object).slice(0, 120)} lacks apiVersion, kind or metadata.name`);
  }
};

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * Wraps every provider method: `after` runs once the real call returned, with the call's name
 * and number (1-based, across all providers); what it returns replaces the result's delivery.
 */
function wrap(providers: Providers, after: (call: string, count: number) => Promise<void>, before: () => Promise<void> = () => Promise.resolve()): Providers {
  let count = 0;
  const wrapOne = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await before();
          const result = await (value as AnyMethod).apply(object, args);
          count += 1;
          await after(`${name}.${String(property)}`, count);
          return result;
        };
      },
    });
  return { identity: wrapOne('identity', providers.identity), accounts: wrapOne('accounts', providers.accounts), stacks: wrapOne('stacks', providers.stacks), kubernetes: wrapOne('kubernetes', providers.kubernetes) };
}

/** Records every provider call by name. */
export function countingProviders(providers: Providers): { readonly providers: Providers; readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    providers: wrap(providers, (call) => {
      calls.push(call);
      return Promise.resolve();
    }),
  };
}

/**
 * The worker dies right after its `n`th outside call succeeded: that call's result is never
 * delivered, so nothing of it is recorded, and every later call hangs too. `crashed` resolves then.
 */
export function crashingProviders(providers: Providers, n: number): { readonly providers: Providers; readonly crashed: Promise<string> } {
  let dead = false;
  let signal: (call: string) => void = () => undefined;
  const crashed = new Promise<string>((resolve) => {
    signal = resolve;
  });
  const never = new Promise<void>(() => undefined);
  return {
    crashed,
    providers: wrap(
      providers,
      (call, count) => {
        if (count < n) return Promise.resolve();
        dead = true;
        signal(call);
        return never;
      },
      // A dead worker makes no more outside calls.
      () => (dead ? never : Promise.resolve()),
    ),
  };
}

/** The provider's methods bound to it, so a spread copy still works. */
export function bindMethods<T extends object>(provider: T): T {
  const bound: Record<string, unknown> = {};
  let prototype: object | null = provider;
  while (prototype && prototype !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(prototype)) {
      const value: unknown = (provider as Record<string, unknown>)[key];
      if (key !== 'constructor' && typeof value === 'function' && !(key in bound)) bound[key] = (value as (...args: unknown[]) => unknown).bind(provider);
    }
    prototype = Object.getPrototypeOf(prototype) as object | null;
  }
  return bound as T;
}
