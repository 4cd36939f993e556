/**
 * Stable error codes carried by {@link InlayEmbedError}. Match on `code`, never on `message`.
 *
 * - `invalid_options`: the options given to `new InlayDashboard(...)` are missing or malformed.
 * - `load_timeout`: the viewer did not report `dashboard:loaded` within `loadTimeoutMs`
 *   (wrong URL, viewer not reachable, or the host page's origin is not an allowed embed origin).
 * - `load_failed`: the viewer reported an error (`dashboard:error`) before the dashboard loaded;
 *   `details.viewerCode` holds the viewer's own code (e.g. `invalid_token`, `not_found`).
 * - `viewer_error`: the viewer reported an error after loading (passed to `onError`).
 * - `token_refresh_failed`: `getNewToken` threw or returned something that is not a token. The SDK
 *   keeps retrying with backoff; this is reported to `onError` on every failed attempt.
 * - `not_initialized`: a method that talks to the frame was called before `initialize()` resolved.
 * - `message_failed`: a message could not be delivered to the frame.
 * - `destroyed`: the dashboard was destroyed; every later call rejects with this code.
 */
export type InlayEmbedErrorCode =
  | 'invalid_options'
  | 'load_timeout'
  | 'load_failed'
  | 'viewer_error'
  | 'token_refresh_failed'
  | 'not_initialized'
  | 'message_failed'
  | 'destroyed';

/** The one error class of `@inlay/embed`. */
export class InlayEmbedError extends Error {
  readonly code: InlayEmbedErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(
    code: InlayEmbedErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'InlayEmbedError';
    this.code = code;
    if (options?.details) this.details = options.details;
  }
}
