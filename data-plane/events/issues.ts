import type { z } from 'zod';
import type { EventIssue } from './errors.js';

const MAX_SHOWN = 80;

/** A value as a message shows it: JSON, cut short. */
export function show(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined; // a BigInt, a cycle, a throwing getter
  }
  if (text === undefined) {
    if (typeof value === 'bigint') text = `${value}n`;
    else if (typeof value === 'symbol') text = value.toString();
    else text = value === undefined ? 'undefined' : `a value of type ${typeof value}`;
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** zod's issues as the catalog reports them: a dotted path, and the message with the value received. */
export function toEventIssues(error: z.ZodError, data: unknown): EventIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const received = issue.code === 'unrecognized_keys' || issue.code === 'custom' ? '' : ` (received ${show(valueAt(data, issue.path))})`;
    return { path, message: `${issue.message}${received}` };
  });
}

/** Issues in one line: `bytes: Too small ... (received -1); key: ...`. */
export function describeIssues(issues: readonly EventIssue[]): string {
  return issues.map((issue) => `${issue.path || '(data)'}: ${issue.message}`).join('; ');
}

/**
 * Keys of `input` that `output` (what the schema kept) does not have: the fields the schema does
 * not know. Producers are held to the schema exactly; readers strip such fields instead.
 */
export function unknownKeys(input: unknown, output: unknown, path: readonly string[] = []): EventIssue[] {
  if (Array.isArray(input) && Array.isArray(output)) {
    return input.flatMap((item, index) => unknownKeys(item, output[index], [...path, String(index)]));
  }
  if (typeof input !== 'object' || input === null || typeof output !== 'object' || output === null) return [];
  const kept = output as Record<string, unknown>;
  return Object.entries(input).flatMap(([key, value]) => {
    if (value === undefined) return [];
    if (!Object.hasOwn(kept, key)) return [{ path: [...path, key].join('.'), message: 'Unknown field: the schema has no such field (remove it, or add it to the schema as an optional field)' }];
    return unknownKeys(value, kept[key], [...path, key]);
  });
}
