/** An unsigned JWT-shaped token with iat/exp (the SDK never verifies signatures). */
export function makeToken(iatSec: number, lifetimeSec: number, extra: Record<string, unknown> = {}): string {
  const b64 = (v: unknown) =>
    btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const claims = { sub: 'alice@example.com', iat: iatSec, exp: iatSec + lifetimeSec, ...extra };
  return `${b64({ alg: 'EdDSA', typ: 'inlay-embed+jwt' })}.${b64(claims)}.c2ln`;
}
