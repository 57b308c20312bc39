import type { Middleware } from 'koa';
import { UnauthenticatedError } from '../errors.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './token-verifier.js';

export interface AuthState {
  principal: Principal;
}

/** Requires `Authorization: Bearer <ID token>` and puts the verified principal on ctx.state. */
export function authenticate(verifier: TokenVerifier): Middleware<AuthState> {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new UnauthenticatedError(header ? 'The Authorization header is not "Bearer <token>".' : 'This route needs an Authorization: Bearer <token> header.');
    }
    ctx.state.principal = await verifier.verify(match[1]);
    await next();
  };
}
