/** Data-lake events: what tenants put into their lake. */
import { z } from 'zod';
import { DataVersions } from '../versions.js';
import { defineEvent } from './define.js';
import { Bytes, Id } from '../fields.js';

const Dataset = z.object({
  datasetId: Id.meta({ description: 'The dataset.' }),
  name: z.string().min(1).max(255).meta({ description: 'Name of the dataset, unique within the tenant.' }),
  sizeBytes: Bytes.meta({ description: 'Size of the dataset in bytes (at creation, or when it was deleted).' }),
});

export const DATALAKE_EVENTS = {
  'datalake.object.uploaded': defineEvent({
    description: "An object was uploaded to the tenant's data lake.",
    producer: 'control-plane/job-manager',
    versions: DataVersions.of(
      z.object({
        datasetId: Id.optional().meta({ description: 'The dataset the object belongs to; absent for an object not (yet) in a dataset.' }),
        key: z.string().min(1).max(1024).meta({ description: "S3 key of the object within the tenant's prefix." }),
        bytes: Bytes.meta({ description: 'Size of the object in bytes.' }),
      }),
      { datasetId: '0f8e4c2a-6b1d-4e3f-8a9b-7c6d5e4f3a2b', key: 'raw/2024/06/01/orders.csv', bytes: 1_048_576 },
    ),
  }),
  'datalake.dataset.created': defineEvent({
    description: 'A dataset was registered in the data lake.',
    producer: 'control-plane/job-manager',
    versions: DataVersions.of(Dataset, { datasetId: '0f8e4c2a-6b1d-4e3f-8a9b-7c6d5e4f3a2b', name: 'orders', sizeBytes: 52_428_800 }),
  }),
  'datalake.dataset.deleted': defineEvent({
    description: 'A dataset was deleted from the data lake.',
    producer: 'control-plane/job-manager',
    versions: DataVersions.of(Dataset, { datasetId: '0f8e4c2a-6b1d-4e3f-8a9b-7c6d5e4f3a2b', name: 'orders', sizeBytes: 52_428_800 }),
  }),
};
