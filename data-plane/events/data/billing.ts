/** Metering: the usage a tenant is billed for. */
import { z } from 'zod';
import { DataVersions } from '../versions.js';
import { defineEvent } from './define.js';
import { Timestamp } from '../fields.js';

/** What the kit meters, with the one unit each is counted in. */
export const BILLING_METRICS = {
  /** vCPU time of the tenant's jobs. */
  compute: 'vcpu-ms',
  /** Data held in the tenant's data lake, integrated over time. */
  storage: 'byte-hours',
  /** Bytes the tenant's jobs read from the data lake. */
  'data-read': 'bytes',
  /** Users who signed in at least once in the period. */
  'active-users': 'users',
} as const;

export type BillingMetric = keyof typeof BILLING_METRICS;

export type BillingUnit = (typeof BILLING_METRICS)[BillingMetric];

const METRIC_NAMES = Object.keys(BILLING_METRICS) as [BillingMetric, ...BillingMetric[]];
const UNIT_NAMES = [...new Set(Object.values(BILLING_METRICS))] as [BillingUnit, ...BillingUnit[]];

export const BILLING_EVENTS = {
  'billing.usage.recorded': defineEvent({
    description: "Metering recorded a tenant's usage of one metric over one period.",
    producer: 'control-plane/metering',
    versions: DataVersions.of(
      z
        .object({
          metric: z.enum(METRIC_NAMES).meta({
            description: `What was measured, with its unit: ${METRIC_NAMES.map((metric) => `${metric} (${BILLING_METRICS[metric]})`).join(', ')}.`,
          }),
          quantity: z.int().nonnegative().meta({ description: 'How much, in whole units.' }),
          unit: z.enum(UNIT_NAMES).meta({ description: 'The unit of quantity: the one of the metric.' }),
          period: z
            .object({
              start: Timestamp.meta({ description: 'Start of the period (inclusive).' }),
              end: Timestamp.meta({ description: 'End of the period (exclusive), after start.' }),
            })
            .refine((period) => Date.parse(period.start) < Date.parse(period.end), { message: 'end must be after start' })
            .meta({ description: 'The period the quantity covers.' }),
        })
        .refine((usage) => BILLING_METRICS[usage.metric] === usage.unit, {
          message: `unit must be the metric's: ${METRIC_NAMES.map((metric) => `${metric} -> ${BILLING_METRICS[metric]}`).join(', ')}`,
          path: ['unit'],
        }),
      { metric: 'compute', quantity: 3_600_000, unit: 'vcpu-ms', period: { start: '2024-06-01T00:00:00.000Z', end: '2024-06-01T01:00:00.000Z' } },
    ),
  }),
};
