import { ControlPlaneError } from '../errors.js';

/** Base of the provisioning errors: the workflow, its workers and the local providers. */
export class ProvisioningError extends ControlPlaneError {}

/** Options that cannot work (a concurrency of 0, a negative delay, ...). */
export class ProvisioningConfigError extends ProvisioningError {}

/** `POST .../provisioning/retry` on a tenant with no failed workflow. */
export class NothingToRetryError extends ProvisioningError {
  override readonly status = 409;
  override readonly title = 'Conflict';
}

/** A tier change asked for while an earlier one failed and waits for its retry. */
export class TierChangeBlockedError extends ProvisioningError {
  override readonly status = 409;
  override readonly title = 'Conflict';
}

/** The rendered Kubernetes objects are not valid; the step fails without applying anything. */
export class InvalidManifestsError extends ProvisioningError {}

/** A local provider was asked about something it never made (an unknown account, ...). */
export class LocalProviderError extends ProvisioningError {}
