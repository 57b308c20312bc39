/** The Kubernetes object client the applier's tests use: client-node's real `KubernetesObjectApi`, pointed at the fake API server. */
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';

import type { KubernetesObjectClient } from '../kubernetes.js';

/** A client of `server` authenticating with a bearer token. */
export function kubernetesObjectClient(server: string, token: string): KubernetesObjectClient {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'kit', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'kit' }],
    currentContext: 'fake',
  });
  return KubernetesObjectApi.makeApiClient(config);
}
