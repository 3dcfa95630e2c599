// Moved to src/oidc/; kept until src/upstreams.ts imports it from there.
export { createUserTokenVerifier, type UserTokenVerifier, type VerifiedUser } from '../oidc/user-token-verifier.ts';
