/** Errors of the tenant stacks (convention 11): every one is a `TenantTiersError`. */
import { TenantTiersError } from '../errors.js';

/** Base of every error the tenant stacks throw. */
export class TenantStackError extends TenantTiersError {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'TenantStackError';
  }
}

/** The input of a tenant stack is wrong; `field` names what to fix and `received` what was given. */
export class TenantStackInputError extends TenantStackError {
  /** Input field at fault as a dotted path, e.g. `tenantName`, `sharedCluster.subnetIds`. */
  public readonly field: string;
  /** The value received, as given. */
  public readonly received: unknown;

  public constructor(field: string, received: unknown, fix: string, options?: { readonly cause?: unknown }) {
    super(`${field}: ${fix} (received ${describe(received)})`, options);
    this.name = 'TenantStackInputError';
    this.field = field;
    this.received = received;
  }
}

/** CDK refused to synthesize the tenant's stack; `cause` holds CDK's error. */
export class TenantStackSynthesisError extends TenantStackError {
  /** Name of the stack that failed. */
  public readonly stackName: string;

  public constructor(stackName: string, options: { readonly cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`synthesis of ${stackName} failed: ${reason}`, options);
    this.name = 'TenantStackSynthesisError';
    this.stackName = stackName;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
