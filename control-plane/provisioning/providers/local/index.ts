import type { IdentityProvider, Providers } from '../../providers.js';
import { LocalKubernetes } from './kubernetes.js';
import { LocalOrganizations, type LocalOrganizationsProps } from './organizations.js';
import { LocalStackDeployer, type LocalStackDeployerProps } from './stacks.js';

export { LocalKubernetes, type LocalKubernetesProps } from './kubernetes.js';
export { LocalOrganizations, type CreateAccountFailureReason, type LocalOrganizationsProps } from './organizations.js';
export { LocalStackDeployer, type LocalStackDeployerProps } from './stacks.js';

export interface LocalProvidersProps {
  /** Where the simulated organization, stacks and manifests are kept (`.data` for `npm start`). */
  readonly dataDir: string;
  /** Cognito: the AWS provider pointed at cognito-local. */
  readonly identity: IdentityProvider;
  /** @default - organizations kept in `<dataDir>/organizations.json`, 2 s creations */
  readonly organizations?: Omit<LocalOrganizationsProps, 'dataDir'>;
  /** @default - 1 s deployments */
  readonly stacks?: Omit<LocalStackDeployerProps, 'dataDir'>;
}

/** The providers `npm start` uses: local Organizations, stacks and Kubernetes folder, with the given identity provider. */
export function createLocalProviders(props: LocalProvidersProps): Providers & { readonly accounts: LocalOrganizations; readonly stacks: LocalStackDeployer; readonly kubernetes: LocalKubernetes } {
  return {
    identity: props.identity,
    accounts: new LocalOrganizations({ ...props.organizations, dataDir: props.dataDir }),
    stacks: new LocalStackDeployer({ ...props.stacks, dataDir: props.dataDir }),
    kubernetes: new LocalKubernetes({ dataDir: props.dataDir }),
  };
}
