// The AWS (and Kubernetes API) implementations of the provisioning providers: re-exports only.
export {
  ProviderBusyError,
  ProviderConfigurationError,
  ProviderConflictError,
  ProviderError,
  ProviderLimitExceededError,
  ProviderNotFoundError,
  ProviderRejectedError,
  ProviderThrottledError,
  ProviderUnavailableError,
  type ProviderErrorOptions,
} from './errors.js';
export { OrganizationsAccountProvider, type OrganizationsAccountProviderProps } from './organizations.js';
export {
  CloudFormationStackDeployer,
  MAX_TEMPLATE_BODY_BYTES,
  type CloudFormationClientFactory,
  type CloudFormationStackDeployerProps,
  type CloudFormationTarget,
  type TemplateUploader,
} from './cloudformation.js';
export { CognitoIdentityProvider, TENANT_ID_ATTRIBUTE, type CognitoIdentityProviderProps } from './cognito.js';
export {
  KubernetesServerSideApplier,
  type KubernetesKind,
  type KubernetesObjectClient,
  type KubernetesServerSideApplierProps,
  type SiloCluster,
  type SiloClusterClientFactory,
} from './kubernetes.js';
export {
  EksClusterClients,
  eksBearerToken,
  EKS_CLUSTER_ID_HEADER,
  EKS_TOKEN_PREFIX,
  type EksClusterClientsProps,
  type EksClusterConnection,
  type TenantAccountRole,
} from './eks-clusters.js';
