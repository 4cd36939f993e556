import { Chatty } from '@looker/chatty';
import type { ChattyHost, ChattyHostConnection } from '@looker/chatty';
import { InlayEmbedError } from './errors';
import { decodeTokenTimes } from './jwt';
import { TokenRefresher } from './refresher';
import type { Filters, InlayEventMap, InlayEventName, Theme } from './types';

export interface InlayDashboardOptions {
  /** Base URL of the Inlay server, e.g. `https://analytics.example.com`. */
  instanceUrl: string;
  dashboardId: string;
  /** The embed token your backend minted for this viewer. */
  token: string;
  /** The element the iframe is appended to. */
  container: HTMLElement;
  /** Returns a fresh embed token (ask your backend). Called ahead of expiry and on demand. */
  getNewToken: () => Promise<string> | string;
  /** Initial filter values: the first run already uses them (they come with the first token). */
  filters?: Filters;
  /** Initial theme: the mode picks the page's theme, overrides come with the first token. */
  theme?: Theme;
  /** Opens this page of a dashboard with pages (the first page when absent or unknown). */
  pageId?: string;
  /** Refresh this many seconds before the token expires (default 300, capped at half the lifetime). */
  refreshMarginSeconds?: number;
  /** Size the iframe's height to the dashboard's content (default true). */
  autoResize?: boolean;
  /** CSS class(es) added to the iframe. */
  className?: string;
  /** How long `initialize()` waits for `dashboard:loaded` (default 30 000 ms). */
  loadTimeoutMs?: number;
  /** Errors that happen outside a call you await: token refresh failures, viewer errors. */
  onError?: (error: InlayEmbedError) => void;
}

/** The SDK's answer to the viewer's session:token:request (docs/embedding.md). */
interface TokenAnswer {
  token: string;
  filters?: Filters;
  theme?: Theme;
}

type Handler<E extends InlayEventName> = (payload: InlayEventMap[E]) => void;

/** Events the viewer sends, each routed through one chatty handler. */
const VIEWER_EVENTS: InlayEventName[] = [
  'dashboard:loaded',
  'dashboard:run:start',
  'dashboard:tile:complete',
  'dashboard:run:complete',
  'dashboard:filters:changed',
  'dashboard:tile:download',
  'dashboard:crossfilter',
  'dashboard:page:changed',
  'page:properties:changed',
  'dashboard:error',
];

/** An Inlay dashboard embedded in an iframe of the host page. */
export class InlayDashboard {
  private readonly opts: Required<Pick<InlayDashboardOptions, 'refreshMarginSeconds' | 'autoResize' | 'loadTimeoutMs'>> &
    InlayDashboardOptions;
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly instanceOrigin: string | null;
  private host: ChattyHost | undefined;
  private connection: ChattyHostConnection | undefined;
  private refresher: TokenRefresher | undefined;
  private initPromise: Promise<void> | undefined;
  private rejectInit: ((err: InlayEmbedError) => void) | undefined;
  private loadTimer: ReturnType<typeof setTimeout> | undefined;
  private loaded = false;
  private destroyed = false;
  private optionsError: InlayEmbedError | null;

  constructor(options: InlayDashboardOptions) {
    this.opts = {
      refreshMarginSeconds: 300,
      autoResize: true,
      loadTimeoutMs: 30_000,
      ...options,
    };
    const { origin, error } = validate(this.opts);
    this.instanceOrigin = origin;
    this.optionsError = error;
  }

  /** The iframe, once `initialize()` has been called. */
  get iframe(): HTMLIFrameElement | undefined {
    return this.host?.iframe;
  }

  /**
   * Creates the iframe, connects to the viewer and resolves when it reports `dashboard:loaded`.
   * Calling it again returns the same promise.
   */
  initialize(): Promise<void> {
    if (this.destroyed) return Promise.reject(destroyedError());
    if (this.initPromise) return this.initPromise;
    if (this.optionsError) return (this.initPromise = Promise.reject(this.optionsError));
    this.initPromise = new Promise<void>((resolve, reject) => {
      this.rejectInit = reject;
      this.refresher = new TokenRefresher({
        token: this.opts.token,
        getNewToken: this.opts.getNewToken,
        marginSeconds: this.opts.refreshMarginSeconds,
        onToken: (token) => this.pushToken(token),
        onError: (error, attempt, retryInMs) => {
          this.emit('token:refresh:error', { error, attempt, retryInMs });
          this.reportError(error);
        },
      });

      const builder = Chatty.createHost(this.viewerUrl())
        .appendTo(this.opts.container)
        .frameBorder('0')
        .withAllowAttribute('fullscreen')
        .withTargetOrigin(this.instanceOrigin!)
        .withAriaLabel('Dashboard')
        // The viewer asks for a token; answer with the current one, or a new one if it is due.
        .on('session:token:request', (payload: InlayEventMap['session:token:request']) =>
          this.answerTokenRequest(payload),
        );
      for (const name of VIEWER_EVENTS) {
        builder.on(name, (payload: unknown) => this.onViewerEvent(name, payload ?? {}));
      }
      this.host = builder.build();
      this.styleIframe(this.host.iframe);

      this.loadTimer = setTimeout(() => {
        this.failInit(
          new InlayEmbedError(
            'load_timeout',
            `the dashboard did not load within ${this.opts.loadTimeoutMs} ms ` +
              '(is the viewer reachable and this page an allowed embed origin?)',
          ),
        );
      }, this.opts.loadTimeoutMs);

      this.host
        .connect()
        .then((conn) => {
          if (this.destroyed) return;
          this.connection = conn;
        })
        .catch((cause: unknown) =>
          this.failInit(new InlayEmbedError('load_failed', 'could not connect to the viewer', { cause })),
        );

      this.onLoaded = () => {
        this.loaded = true;
        clearTimeout(this.loadTimer);
        this.refresher!.start();
        resolve();
      };
    });
    return this.initPromise;
  }

  /**
   * Subscribes to an event from the viewer (or one of the SDK's `token:*` events).
   * Returns a function that unsubscribes.
   */
  on<E extends InlayEventName>(event: E, handler: Handler<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const fn = handler as (payload: unknown) => void;
    set.add(fn);
    return () => {
      set!.delete(fn);
    };
  }

  /** Replaces filter values (names not given keep their value) and re-runs the dashboard. */
  setFilters(filters: Filters): Promise<void> {
    return this.action('dashboard:filters:update', { filters });
  }

  /** Re-runs every widget. */
  run(): Promise<void> {
    return this.action('dashboard:run');
  }

  /** Switches theme in place: `'light'`, `'dark'` or overrides. */
  setTheme(theme: Theme): Promise<void> {
    return this.action('dashboard:theme:set', { theme });
  }

  /** Removes the iframe and stops every timer; later calls reject with `destroyed`. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this.loadTimer);
    this.refresher?.stop();
    this.host?.iframe.remove();
    this.connection = undefined;
    this.listeners.clear();
    this.rejectInit?.(destroyedError());
  }

  // --- internals ---

  private onLoaded: () => void = () => {};

  private viewerUrl(): string {
    const url = new URL(
      `/embed/dashboards/${encodeURIComponent(this.opts.dashboardId)}`,
      this.opts.instanceUrl.replace(/\/+$/, '') + '/',
    );
    url.searchParams.set('embed_domain', window.location.origin);
    const theme = this.opts.theme;
    const mode = typeof theme === 'string' ? theme : theme?.mode;
    if (mode) url.searchParams.set('theme', mode);
    if (this.opts.pageId) url.searchParams.set('page', this.opts.pageId);
    return url.toString();
  }

  private styleIframe(iframe: HTMLIFrameElement): void {
    iframe.style.width = '100%';
    iframe.style.border = '0';
    iframe.style.display = 'block';
    iframe.title = 'Dashboard';
    // chatty sets `allow` only where the DOM exposes the property; the attribute must be in place
    // before the iframe is inserted (connect() inserts it), as it is read at navigation.
    iframe.setAttribute('allow', 'fullscreen');
    iframe.allowFullscreen = true;
    if (this.opts.className) iframe.className = this.opts.className;
  }

  private onViewerEvent(name: InlayEventName, payload: unknown): void {
    if (this.destroyed) return;
    switch (name) {
      case 'dashboard:loaded':
        if (!this.loaded) this.onLoaded();
        break;
      case 'page:properties:changed': {
        const height = (payload as { height?: unknown }).height;
        if (this.opts.autoResize && typeof height === 'number' && Number.isFinite(height) && height > 0) {
          this.host!.iframe.style.height = `${Math.ceil(height)}px`;
        }
        break;
      }
      case 'dashboard:error': {
        const { code, message } = payload as { code?: string; message?: string };
        const details = { viewerCode: code };
        if (!this.loaded) {
          this.failInit(new InlayEmbedError('load_failed', message ?? 'the dashboard failed to load', { details }));
        } else {
          this.reportError(new InlayEmbedError('viewer_error', message ?? 'the dashboard reported an error', { details }));
        }
        break;
      }
    }
    this.emit(name, payload);
  }

  private async answerTokenRequest(payload: InlayEventMap['session:token:request']): Promise<TokenAnswer> {
    if (this.destroyed) throw destroyedError();
    const reason = payload?.reason ?? 'initial';
    this.emit('session:token:request', { reason });
    const refresher = this.refresher!;
    // A new token first if the viewer saw this one rejected, or if its refresh time has passed.
    const due = reason === 'expired' || refresher.isExpiring();
    // The answer carries the token, so it is not pushed again with session:token.
    const answer: TokenAnswer = { token: due ? await refresher.refresh() : refresher.current };
    // The first answer also carries the initial filters and theme overrides, so the viewer's
    // first run and first paint use them (no second run, no flash of the default theme).
    if (reason === 'initial') {
      if (this.opts.filters) answer.filters = this.opts.filters;
      if (this.opts.theme && typeof this.opts.theme === 'object') answer.theme = this.opts.theme;
    }
    return answer;
  }

  private pushToken(token: string): void {
    const times = decodeTokenTimes(token);
    this.emit('token:refreshed', { expiresAt: times ? new Date(times.exp * 1000) : null });
    if (this.connection) this.connection.send('session:token', { token });
  }

  private async action(name: string, payload?: unknown): Promise<void> {
    if (this.destroyed) throw destroyedError();
    if (!this.loaded || !this.connection) {
      throw new InlayEmbedError('not_initialized', `call initialize() and wait for it before ${name}`);
    }
    this.send(name, payload);
  }

  private send(name: string, payload?: unknown): void {
    try {
      if (payload === undefined) this.connection!.send(name);
      else this.connection!.send(name, payload);
    } catch (cause) {
      throw new InlayEmbedError('message_failed', `could not send ${name} to the dashboard`, { cause });
    }
  }

  private failInit(err: InlayEmbedError): void {
    if (this.loaded || this.destroyed) return;
    clearTimeout(this.loadTimer);
    this.rejectInit?.(err);
    this.reportError(err);
  }

  private emit<E extends InlayEventName>(name: E, payload: InlayEventMap[E] | unknown): void {
    for (const fn of [...(this.listeners.get(name) ?? [])]) {
      try {
        fn(payload);
      } catch (err) {
        // A broken listener must not break the SDK or other listeners.
        console.error(`@inlay/embed: "${name}" listener threw`, err);
      }
    }
  }

  private reportError(err: InlayEmbedError): void {
    try {
      this.opts.onError?.(err);
    } catch (e) {
      console.error('@inlay/embed: onError threw', e);
    }
  }
}

function destroyedError(): InlayEmbedError {
  return new InlayEmbedError('destroyed', 'the dashboard was destroyed');
}

function validate(o: InlayDashboardOptions): { origin: string | null; error: InlayEmbedError | null } {
  const problems: string[] = [];
  let origin: string | null = null;
  if (!o || typeof o !== 'object') {
    return { origin, error: new InlayEmbedError('invalid_options', 'options are required') };
  }
  try {
    const u = new URL(o.instanceUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push('instanceUrl must be http(s)');
    origin = u.origin;
  } catch {
    problems.push('instanceUrl must be an absolute URL');
  }
  if (typeof o.dashboardId !== 'string' || o.dashboardId === '') problems.push('dashboardId is required');
  if (typeof o.token !== 'string' || o.token === '') problems.push('token is required');
  if (typeof o.getNewToken !== 'function') problems.push('getNewToken must be a function');
  if (typeof HTMLElement === 'undefined' || !(o.container instanceof HTMLElement)) {
    problems.push('container must be an HTMLElement');
  }
  if (typeof o.refreshMarginSeconds !== 'number' || !(o.refreshMarginSeconds >= 0)) {
    problems.push('refreshMarginSeconds must be a number >= 0');
  }
  if (typeof o.loadTimeoutMs !== 'number' || !(o.loadTimeoutMs > 0)) problems.push('loadTimeoutMs must be > 0');
  const error = problems.length
    ? new InlayEmbedError('invalid_options', `invalid options: ${problems.join('; ')}`, { details: { problems } })
    : null;
  return { origin, error };
}
