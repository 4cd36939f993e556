import { InlayEmbedError } from './errors';
import { decodeTokenTimes } from './jwt';

/** Backoff after the n-th consecutive failed refresh (n from 0): 1 s, 2 s, 4 s ... capped at 60 s. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 60_000;
/** Never schedule refreshes closer together than this, whatever the token says. */
export const MIN_REFRESH_DELAY_MS = 1_000;

export interface RefresherOptions {
  token: string;
  getNewToken: () => Promise<string> | string;
  /** Refresh this long before `exp`; capped at half the token's lifetime. */
  marginSeconds: number;
  /** Called with every new token (after a successful refresh). */
  onToken: (token: string) => void;
  /** Called on every failed attempt; retries continue regardless. */
  onError: (err: InlayEmbedError, attempt: number, retryInMs: number) => void;
  now?: () => number;
  random?: () => number;
}

/** The delay before retry number `attempt` (0-based), with up to 20% downward jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - 0.2 * random()));
}

/**
 * The refresh margin in seconds for a token: the configured margin, capped at half the token's
 * lifetime so that a short-lived token is not refreshed the moment it arrives.
 */
export function effectiveMarginSeconds(
  times: { exp: number; iat?: number },
  marginSeconds: number,
  nowSeconds: number,
): number {
  const lifetime = times.exp - (times.iat ?? nowSeconds);
  return Math.max(0, Math.min(marginSeconds, lifetime / 2));
}

/**
 * Keeps a token fresh: schedules `getNewToken` a margin before expiry, retries failures with
 * exponential backoff for ever, and coalesces concurrent refreshes into one call.
 */
export class TokenRefresher {
  private token: string;
  private readonly opts: RefresherOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<string> | undefined;
  private failures = 0;
  private stopped = false;

  constructor(opts: RefresherOptions) {
    this.opts = opts;
    this.token = opts.token;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  get current(): string {
    return this.token;
  }

  /** Starts the schedule for the current token. */
  start(): void {
    this.stopped = false;
    this.scheduleForToken();
  }

  /** Stops every timer; a refresh in flight completes but schedules nothing. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** True if the scheduled refresh time for the current token has passed. */
  isExpiring(): boolean {
    const times = decodeTokenTimes(this.token);
    if (!times) return false;
    const margin = effectiveMarginSeconds(times, this.opts.marginSeconds, this.now() / 1000);
    return times.exp * 1000 - margin * 1000 <= this.now();
  }

  /**
   * Gets a new token now (joining a refresh already in flight). On failure the error is
   * reported, a retry is scheduled with backoff, and the returned promise rejects.
   */
  refresh(): Promise<string> {
    if (this.inflight) return this.inflight;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const run = (async () => {
      let token: unknown;
      try {
        token = await this.opts.getNewToken();
      } catch (cause) {
        throw new InlayEmbedError('token_refresh_failed', `getNewToken failed: ${String(cause)}`, { cause });
      }
      if (typeof token !== 'string' || token === '') {
        throw new InlayEmbedError('token_refresh_failed', 'getNewToken did not return a non-empty string');
      }
      return token;
    })();
    this.inflight = run.then(
      (token) => {
        this.inflight = undefined;
        this.failures = 0;
        this.token = token;
        if (!this.stopped) {
          this.opts.onToken(token);
          this.scheduleForToken();
        }
        return token;
      },
      (err: InlayEmbedError) => {
        this.inflight = undefined;
        const attempt = this.failures++;
        const retryIn = backoffDelay(attempt, this.random);
        if (!this.stopped) {
          this.opts.onError(err, attempt, retryIn);
          this.schedule(retryIn);
        }
        throw err;
      },
    );
    return this.inflight;
  }

  private scheduleForToken(): void {
    const times = decodeTokenTimes(this.token);
    if (!times) return; // opaque token: refresh only when the frame asks for one
    const nowMs = this.now();
    const margin = effectiveMarginSeconds(times, this.opts.marginSeconds, nowMs / 1000);
    const due = times.exp * 1000 - margin * 1000 - nowMs;
    this.schedule(Math.max(MIN_REFRESH_DELAY_MS, due));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // The failure is already reported and a retry scheduled by refresh().
      this.refresh().catch(() => {});
    }, delayMs);
  }
}
