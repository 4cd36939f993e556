// The embed token lives here, in memory only: never in cookies or storage.

/** The exp and iat claims of a JWT (seconds since the epoch), read without verifying it. */
export function claimsOf(token: string): { exp?: number; iat?: number } {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = JSON.parse(atob(b64));
    return {
      exp: typeof json.exp === 'number' ? json.exp : undefined,
      iat: typeof json.iat === 'number' ? json.iat : undefined,
    };
  } catch {
    return {};
  }
}

/**
 * How long after now (ms) to ask for a fresh token: 60 s before exp, or half the lifetime for
 * tokens that live less than two minutes, so a short-lived token is not asked for in a loop.
 * Undefined when the token has no exp.
 */
export function refreshDelay(token: string, nowMs: number): number | undefined {
  const { exp, iat } = claimsOf(token);
  if (exp === undefined) return undefined;
  const lifetime = iat !== undefined && exp > iat ? exp - iat : undefined;
  const margin = lifetime !== undefined ? Math.min(60, lifetime / 2) : 60;
  return Math.max(1000, (exp - margin) * 1000 - nowMs);
}
