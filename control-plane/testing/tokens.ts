import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SignJWT, decodeJwt, generateKeyPair, importJWK, type JWK } from 'jose';

/** Signs `claims` with cognito-local's own key: valid in every way the test does not change. */
export async function signAsLocalPool(claims: Record<string, unknown>): Promise<string> {
  const keyFile = createRequire(import.meta.url).resolve('cognito-local/lib/keys/cognitoLocal.private.json');
  const { jwk } = JSON.parse(readFileSync(keyFile, 'utf8')) as { jwk: JWK };
  const key = await importJWK(jwk, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'CognitoLocal' }).sign(key);
}

/** The claims of a real token, re-signed with an expiry in the past. */
export async function expiredCopyOf(token: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signAsLocalPool({ ...decodeJwt(token), iat: now - 7200, exp: now - 3600 });
}

/** The claims of a real token, signed by a key the pool never published. */
export async function foreignCopyOf(token: string): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ ...decodeJwt(token) }).setProtectedHeader({ alg: 'RS256', kid: 'CognitoLocal' }).sign(privateKey);
}
