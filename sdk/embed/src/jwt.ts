/** Claims the SDK reads from an embed token. Times are seconds since the epoch. */
export interface TokenTimes {
  exp: number;
  iat?: number;
}

/**
 * Reads `exp` (and `iat`) from a JWT without verifying it: the SDK only needs to know when to
 * ask for a new token; Inlay verifies every token it receives. Returns null for anything that is
 * not a JWT with a numeric `exp`.
 */
export function decodeTokenTimes(token: string): TokenTimes | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const claims: unknown = JSON.parse(atob(padded));
    if (typeof claims !== 'object' || claims === null) return null;
    const { exp, iat } = claims as { exp?: unknown; iat?: unknown };
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return null;
    return typeof iat === 'number' && Number.isFinite(iat) ? { exp, iat } : { exp };
  } catch {
    return null;
  }
}
