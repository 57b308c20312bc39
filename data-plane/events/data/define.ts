import type { z } from 'zod';
import type { DataVersions } from '../versions.js';

/** A type of the catalog: what it says, and every version of its data. */
export interface EventDefinition<Latest extends z.ZodType = z.ZodType> {
  /** One sentence: what happened, who emits it. Shown in docs/events. */
  readonly description: string;
  /** The component that emits it: the `source` its examples show. */
  readonly producer: string;
  readonly versions: DataVersions<Latest>;
}

/** Keeps each definition's schema type (for `z.infer`) while checking its shape. */
export function defineEvent<Latest extends z.ZodType>(definition: EventDefinition<Latest>): EventDefinition<Latest> {
  return definition;
}
