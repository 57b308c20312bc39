// The CDK side of tenant-tiers: per-tenant constructs and stacks. A public entry of its own, so that
// runtime code (the APIs, the workers, the Lambda) imports tenant-tiers/index.ts without loading aws-cdk-lib.
export { TenantInfrastructure } from './tenant-infrastructure.js';
export type { TenantInfrastructureProps, SharedClusterAttributes, CentralEventStreamAttributes, TenantDataPlane } from './tenant-infrastructure.js';
export { TenantStack } from './tenant-stack.js';
export type { TenantStackProps } from './tenant-stack.js';
export { synthesizeTenantStack } from './synthesize.js';
export type { SynthesizeTenantStackInput, SynthesizedTenantStack } from './synthesize.js';
export { StreamProducerAccess, STREAM_PRODUCER_ACTIONS } from './stream-producer-access.js';
export type { StreamProducerAccessProps } from './stream-producer-access.js';
export { measureTenantSynthesis, sampleTenantInput } from './measure-synthesis.js';
export type { TenantSynthesisMeasurement } from './measure-synthesis.js';
export { accessLogsBucket } from './access-logs-bucket.js';
