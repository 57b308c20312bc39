import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { UnauthenticatedError } from '../errors.js';
import { ROLES, isRole, type Principal, type Role } from './principal.js';

export interface TokenVerifierOptions {
  /** The JWKS of the user pool: `https://cognito-idp.REGION.amazonaws.com/POOL/.well-known/jwks.json`. */
  readonly jwksUrl: string;
  /** The `iss` every token must carry. */
  readonly issuer: string;
  /** The app client id(s) an ID token's `aud` must name. */
  readonly audience: string | readonly string[];
  /**
   * How long a verified token is remembered. A remembered token still expires at its `exp`;
   * the bound only limits how long a key removed from the JWKS keeps old tokens valid.
   * @default 300_000 (5 minutes)
   */
  readonly cacheTtlMs?: number;
  /** @default 10_000 */
  readonly cacheSize?: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/**
 * Verifies Cognito ID tokens (RS256, against the pool's JWKS) and maps their claims to a
 * principal: the role from `cognito:groups`, the tenant from `custom:tenant_id`.
 *
 * A token's signature is checked once and the result remembered by the exact token string:
 * the same bytes verify the same way every time, so repeated requests with one token skip the
 * RSA verification without weakening it; expiry is still checked on every request.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience];
  const verified = new LRUCache<string, { principal: Principal; expiresAtMs: number }>({
    max: options.cacheSize ?? 10_000,
    ttl: options.cacheTtlMs ?? 300_000,
  });

  return {
    async verify(token) {
      const remembered = verified.get(token);
      if (remembered) {
        if (Date.now() >= remembered.expiresAtMs) {
          verified.delete(token);
          throw new UnauthenticatedError('The bearer token has expired: sign in again for a new one.');
        }
        return remembered.principal;
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, { issuer: options.issuer, audience, algorithms: ['RS256'], requiredClaims: ['exp', 'sub'] }));
      } catch (error) {
        throw new UnauthenticatedError(describeVerificationFailure(error), { cause: error });
      }
      if (payload.token_use !== undefined && payload.token_use !== 'id') {
        throw new UnauthenticatedError(`The bearer token is a Cognito "${JSON.stringify(payload.token_use)}" token: send the ID token.`);
      }
      const principal = principalFromClaims(payload);
      verified.set(token, { principal, expiresAtMs: (payload.exp as number) * 1000 });
      return principal;
    },
  };
}

/** The role a token grants: its most privileged kit group. */
export function principalFromClaims(claims: JWTPayload): Principal {
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]).filter((g): g is string => typeof g === 'string') : [];
  const role: Role | undefined = ROLES.find((candidate) => groups.includes(candidate));
  const subject = claims.sub as string;
  if (!role) {
    throw new UnauthenticatedError(`The token's groups [${groups.join(', ')}] name no kit role: add the user to one of ${ROLES.join(', ')}.`);
  }
  if (role === 'platform-admin' || role === 'onboarding') {
    return { kind: 'platform', subject, role };
  }
  const tenantId = claims['custom:tenant_id'];
  if (typeof tenantId !== 'string' || !/^[0-9a-f-]{36}$/i.test(tenantId) || !isRole(role)) {
    throw new UnauthenticatedError(`A ${role} token must carry custom:tenant_id with the tenant's id; it has ${JSON.stringify(tenantId ?? null)}.`);
  }
  return { kind: 'tenant', subject, role, tenantId };
}

function describeVerificationFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The bearer token has expired: sign in again for a new one.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The bearer token was not issued for this API (${error.claim} claim): use a token of the kit's user pool and app client.`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) return 'The bearer token is not signed by the kit\'s user pool.';
  return 'The bearer token is malformed or cannot be verified.';
}
