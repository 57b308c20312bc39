import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKitUserPool, issueLocalToken, startLocalCognito, type KitUserPool, type LocalCognito } from '../../local-cloud/index.js';
import { UnauthenticatedError } from '../errors.js';
import { signAsLocalPool } from '../testing/tokens.js';
import { createTokenVerifier, principalFromClaims, type TokenVerifier } from './token-verifier.js';

describe('createTokenVerifier against a local Cognito pool', () => {
  let cognito: LocalCognito;
  let pool: KitUserPool;
  let verifier: TokenVerifier;
  const tenantId = '0b4c1f43-5a2e-4c6e-9a55-3f1f7a0e2b11';

  beforeAll(async () => {
    cognito = await startLocalCognito();
    pool = await ensureKitUserPool(cognito);
    verifier = createTokenVerifier({ jwksUrl: pool.jwksUrl, issuer: pool.issuer, audience: pool.clientId });
  });
  afterAll(async () => {
    await cognito.stop();
  });

  it('maps groups and the tenant claim to a principal', async () => {
    const { idToken } = await issueLocalToken(cognito, pool, { role: 'tenant-user', tenantId });
    await expect(verifier.verify(idToken)).resolves.toMatchObject({ kind: 'tenant', role: 'tenant-user', tenantId });
    const platform = await issueLocalToken(cognito, pool, { role: 'platform-admin' });
    await expect(verifier.verify(platform.idToken)).resolves.toMatchObject({ kind: 'platform', role: 'platform-admin' });
  });

  it('rejects access tokens: only ID tokens carry the tenant claim', async () => {
    const { accessToken } = await issueLocalToken(cognito, pool, { role: 'tenant-admin', tenantId });
    await expect(verifier.verify(accessToken)).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('still expires a remembered token at its exp', async () => {
    const { idToken } = await issueLocalToken(cognito, pool, { role: 'tenant-admin', tenantId });
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await signAsLocalPool({ ...decodeJwt(idToken), iat: now, exp: now + 2 });
    await expect(verifier.verify(shortLived)).resolves.toMatchObject({ tenantId });
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await expect(verifier.verify(shortLived)).rejects.toThrow(/expired/);
  });

  it('refuses a token of another app client or issuer', async () => {
    const { idToken } = await issueLocalToken(cognito, pool, { role: 'onboarding' });
    const otherAudience = createTokenVerifier({ jwksUrl: pool.jwksUrl, issuer: pool.issuer, audience: 'another-client' });
    await expect(otherAudience.verify(idToken)).rejects.toThrow(/aud/);
    const otherIssuer = createTokenVerifier({ jwksUrl: pool.jwksUrl, issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other', audience: pool.clientId });
    await expect(otherIssuer.verify(idToken)).rejects.toThrow(/iss/);
  });
});

describe('principalFromClaims', () => {
  it.each([
    [{ sub: 's', 'cognito:groups': ['tenant-user', 'tenant-admin'], 'custom:tenant_id': '0b4c1f43-5a2e-4c6e-9a55-3f1f7a0e2b11' }, { kind: 'tenant', role: 'tenant-admin' }],
    [{ sub: 's', 'cognito:groups': ['onboarding', 'platform-admin'] }, { kind: 'platform', role: 'platform-admin' }],
  ])('picks the most privileged kit role of %j', (claims, expected) => {
    expect(principalFromClaims(claims)).toMatchObject(expected);
  });

  it.each([
    [{ sub: 's', 'cognito:groups': ['viewers'] }, /name no kit role/],
    [{ sub: 's' }, /name no kit role/],
    [{ sub: 's', 'cognito:groups': ['tenant-admin'] }, /custom:tenant_id/],
    [{ sub: 's', 'cognito:groups': ['tenant-admin'], 'custom:tenant_id': 'acme' }, /custom:tenant_id/],
  ])('refuses %j', (claims, message) => {
    expect(() => principalFromClaims(claims)).toThrow(message);
  });
});
