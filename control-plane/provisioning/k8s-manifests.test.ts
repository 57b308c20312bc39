import { describe, expect, it } from 'vitest';
import { TIER_NAMES } from '../../tenant-tiers/index.js';
import { k8sManifests } from './k8s-manifests.js';

describe('k8s manifests for the workflow', () => {
  const { renderManifests, validateManifests } = k8sManifests({ executorImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/executor:1' });

  it.each(TIER_NAMES)('renders valid objects for a %s tenant, its namespace first', async (tier) => {
    const objects = await renderManifests({ tenant: { tenantId: '6f1c1c9e-8f1e-4a56-9a61-1f1f1f1f1f1f', tenantName: 'acme', tier }, region: 'us-east-1' });
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: expect.stringContaining('acme') } });
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ResourceQuota', 'NetworkPolicy', 'Deployment']));
    expect(() => validateManifests(objects)).not.toThrow();
  });

  it('rejects an object that breaks its schema', () => {
    expect(() => validateManifests([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'acme' }, spec: { finalizers: 'not-a-list' } }])).toThrow();
  });
});
