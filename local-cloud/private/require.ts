import { createRequire } from 'node:module';

/**
 * `require` for the CommonJS servers, which ship no type declarations: each caller states the small part of
 * the API it uses.
 */
export const requireFromKit = createRequire(import.meta.url);

/** `require` as seen from an installed package, so that its own copy of a dependency is found. */
export function requireFrom(packageName: string): NodeJS.Require {
  return createRequire(requireFromKit.resolve(packageName));
}
