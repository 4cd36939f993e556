// The Inlay viewer: the dashboard page inside the embed iframe. It boots from the page config,
// gets its token from the host page over @looker/chatty (docs/embedding.md), loads the dashboard
// from the embed API (docs/api.md), runs its widgets, and reports what happens to the host.

import './styles.css';
import { Api, ApiFailure } from './api';
import { Banner, causeOf } from './banner';
import type { BannerAction } from './banner';
import { csvRecords, pivotCSV } from './csv';
import { Bridge } from './bridge';
import { connectPrompt, needsLogin } from './connect';
import { append, h, icon, icons } from './dom';
import { FilterBar, defaults, normalize } from './filters';
import type { FilterValues } from './filters';
import { applyTheme, parseTheme, resolveTheme } from './theme';
import type { Theme } from './theme';
import { chartTypes, loadCharts } from './lazy-charts';
import { PAGE_SIZE, Tile, describeError } from './tile';
import { refreshDelay } from './token';
import * as looker from './looker';
import type { LookerBootstrap } from './looker';
import type { ApiError, Dashboard, FilterValue, PageConfig, QueryResponse, ThemeOverride } from './types';

const TOKEN_TIMEOUT_MS = 30_000;

/** A widget query already on its way, with what aborts it. */
interface StartedRun {
  response: Promise<QueryResponse>;
  abort: AbortController;
}

class Viewer {
  private cfg: PageConfig;
  private bridge: Bridge;
  private api: Api;
  private token = ''; // in memory only
  private tokenRequest?: Promise<string>;
  private refreshTimer?: ReturnType<typeof setTimeout>;
  private tokenPushed?: () => void;
  private themeOverride: ThemeOverride;
  private theme: Theme;
  private dashboard?: Dashboard;
  private capabilities: string[] = [];
  private values: FilterValues = {};
  private pendingFilters?: Record<string, unknown>;
  /** pendingFilters as renderDashboard() found them (identity tells whether they changed). */
  private pendingFiltersSeen?: Record<string, unknown>;
  private filterBar?: FilterBar;
  private tiles: Tile[] = [];
  /** The page (tab) shown, when the dashboard has pages; kept across token refreshes and reloads. */
  private page = new URLSearchParams(location.search).get('page') ?? '';
  private tabs: HTMLButtonElement[] = [];
  private runSeq = 0;
  private runAbort?: AbortController;
  private fullTile?: { tile: Tile; placeholder: HTMLElement };
  private lastHeight = -1;
  /** The last run failed as a whole (session, network, server): a new token runs it again. */
  private needsRerun = false;
  private banner: Banner;
  /** Says which filter a click set, with a way to undo it. */
  private crossChip = h('div', { class: 'cross-chip', hidden: true });
  private crossUndo?: { name: string; previous: import('./types').FilterValue };
  /** "Updated 14:05": when the data on screen was last fetched. */
  private updated = h('span', { class: 'dash-updated', 'aria-live': 'polite' });
  /** Looker mode (the page's inlay-bootstrap): Looker's events, actions, auth and URL params. */
  private looker?: LookerState;
  private running = false;
  /** Looker's env:host:scroll: the first iframe pixel row the host page shows. */
  private hostVisibleTop?: number;

  private root: HTMLElement;
  private content: HTMLElement;
  private main: HTMLElement;
  private toast: HTMLElement;

  constructor(cfg: PageConfig, mount: HTMLElement, boot?: LookerBootstrap) {
    this.cfg = cfg;
    if (boot) this.looker = lookerState(boot);
    this.themeOverride = this.looker ? this.looker.theme ?? {} : parseTheme(cfg.theme);
    this.theme = resolveTheme(this.themeOverride);
    applyTheme(this.theme);

    this.main = h('main', { class: 'viewer-main' }, pageSkeleton());
    this.toast = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite', hidden: true });
    this.content = h('div', { class: 'viewer' }, this.main, this.toast);
    this.banner = new Banner((a) => this.onBannerAction(a));
    this.root = mount;
    this.root.replaceChildren(this.content);

    if (this.looker) {
      const lk = this.looker;
      // Same origin as the page: the session cookie is Inlay's own, and the page's CSP allows
      // connections to 'self' only.
      this.api = new Api(location.origin, cfg.dashboardId, this.lookerAuth(lk), { credentials: lk.boot.auth === 'cookie' ? 'same-origin' : 'omit' });
      // Events flow only when the server allowed embed_domain (bootstrap "events").
      this.bridge = new Bridge(lk.boot.events ? cfg.embedDomain : '', {
        'dashboard:run': () => void this.run(),
        'dashboard:stop': () => this.stop(),
        'dashboard:filters:update': (p) => this.updateFilters(p?.filters),
        'dashboard:load': (p) => this.navigate(p),
        'page:load': (p) => this.navigate(p),
        'env:host:scroll': (p) => this.hostScrolled(p),
        'session:tokens': (p) => lk.tokens?.receive(p),
      });
    } else {
      this.api = new Api(cfg.apiBase || location.origin, cfg.dashboardId, {
        current: () => this.token,
        renew: () => this.requestToken('expired'),
      });
      this.bridge = new Bridge(cfg.embedDomain, {
        'session:token': (p) => this.setToken(p?.token),
        'dashboard:run': () => void this.run(),
        'dashboard:filters:update': (p) => this.updateFilters(p?.filters),
        'dashboard:theme:set': (p) => this.setTheme(p?.theme),
      });
    }
    this.watchHeight();
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.fullTile) this.toggleFullscreen(this.fullTile.tile);
    });
    document.addEventListener('fullscreenchange', () => {
      if (!document.fullscreenElement && this.fullTile) this.exitFullscreen();
    });
  }

  async start(): Promise<void> {
    if (this.looker) return this.startLooker(this.looker);
    if (!this.bridge.embedded) {
      this.fail({ code: 'not_embedded', message: 'This dashboard is meant to be embedded in another page with @inlay/embed.' });
      return;
    }
    try {
      // The host answers the request, or may push session:token on its own first.
      const pushed = new Promise<void>((resolve, reject) => {
        this.tokenPushed = resolve;
        setTimeout(reject, TOKEN_TIMEOUT_MS);
      });
      await Promise.any([this.requestToken('initial'), pushed]);
      performance.mark('inlay:token');
    } catch {
      this.fail({ code: 'token_unavailable', message: 'The host page did not provide a session token.' });
      return;
    }
    await this.load();
  }

  /** Loads the definition and runs the first time (again after the viewer connects an account). */
  private async load(): Promise<void> {
    // The definition and the first run of every widget go out together: the server applies
    // the dashboard's filter defaults, with the host's initial filters on top.
    const initial = this.pendingFilters;
    const abort = new AbortController();
    const first: StartedRun = { abort, response: this.api.query(undefined, initial ?? {}, abort.signal, true, { page_size: PAGE_SIZE, tab: this.page }) };
    first.response.catch(() => undefined); // awaited by run(), or abandoned
    // The page preloads the charts chunk; running it now, after the requests are out, keeps its
    // evaluation from delaying the handshake.
    void loadCharts().catch(() => undefined); // run() reports a failure per widget
    let loaded;
    try {
      loaded = await this.api.dashboard();
    } catch (e) {
      first.abort.abort();
      if (needsLogin(apiError(e))) {
        await this.connect(apiError(e).code === 'refresh_failed');
        return;
      }
      this.fail(apiError(e), e instanceof ApiFailure ? e.status : 500);
      return;
    }
    performance.mark('inlay:dashboard');
    this.dashboard = loaded.dashboard;
    this.capabilities = loaded.viewer?.capabilities ?? [];
    this.renderDashboard();
    this.bridge.send('dashboard:loaded', { dashboard: this.info() });
    if (this.pendingFiltersSeen !== initial) {
      // The host changed the filters while the definition loaded: that run is stale.
      first.abort.abort();
      await this.run();
      return;
    }
    await this.run(first, initial !== undefined);
  }

  // ---- token ----

  /** Asks the host for a token; concurrent callers share one request. */
  private requestToken(reason: 'initial' | 'expiring' | 'expired'): Promise<string> {
    if (!this.tokenRequest) {
      this.tokenRequest = this.bridge
        .request<{ token?: unknown; filters?: unknown; theme?: unknown }>('session:token:request', { reason }, TOKEN_TIMEOUT_MS)
        .then((answer) => {
          const t = answer?.token;
          if (typeof t !== 'string' || t === '') throw new Error('the host answered without a token');
          if (reason === 'initial') this.takeInitialState(answer);
          this.setToken(t);
          return t;
        })
        .finally(() => (this.tokenRequest = undefined));
    }
    return this.tokenRequest;
  }

  /**
   * The host's answer to the first token request may carry the initial filters and theme, so
   * that the first run and the first paint already use them.
   */
  private takeInitialState(answer: { filters?: unknown; theme?: unknown }): void {
    if (answer.filters && typeof answer.filters === 'object' && !Array.isArray(answer.filters)) {
      this.pendingFilters = { ...(answer.filters as Record<string, unknown>), ...this.pendingFilters };
    }
    if (answer.theme && typeof answer.theme === 'object') this.setTheme(answer.theme);
  }

  /** Swaps the token in place (session:token action or a host answer): no reload, filters kept. */
  private setToken(t: unknown): void {
    if (typeof t !== 'string' || t === '') return;
    this.token = t;
    this.tokenPushed?.();
    // A run that failed for want of a session (or a network) runs again with the new token.
    if (this.needsRerun && this.dashboard && !this.tokenRequest) void this.run();
    clearTimeout(this.refreshTimer);
    const delay = refreshDelay(t, Date.now());
    if (delay === undefined) return;
    this.refreshTimer = setTimeout(() => {
      this.requestToken('expiring').catch(() => {
        // The host may still push a token; if not, the next call's 401 asks again.
        if (this.token === t) this.refreshTimer = setTimeout(() => this.requestToken('expiring').catch(() => undefined), 10_000);
      });
    }, delay);
  }

  // ---- Looker mode ----

  /** How the embed API is called in Looker mode: the session cookie, or cookieless api tokens. */
  private lookerAuth(lk: LookerState): import('./api').TokenSource {
    if (lk.boot.auth === 'cookie') {
      return {
        current: () => '',
        renew: () => Promise.reject(new looker.SessionExpired()),
        renewable: () => false,
        refused: () => this.sessionEnded(),
      };
    }
    lk.tokens = new looker.TokenCycle({
      request: () => this.bridge.send('session:tokens:request', { type: 'session:tokens:request' }),
      status: (st) => this.bridge.send('session:status', looker.events.sessionStatus(st)),
      expired: () => this.sessionEnded(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t),
    });
    const tokens = lk.tokens;
    return {
      current: () => tokens.apiToken,
      renew: (used) => tokens.token(used),
      // An expired api token is renewed; an ended session is not.
      renewable: (e) => e.code !== 'session_expired' && !tokens.isExpired,
      refused: (e) => {
        if (e.code === 'session_expired') tokens.expire();
      },
    };
  }

  private async startLooker(lk: LookerState): Promise<void> {
    if (lk.tokens) {
      if (!this.bridge.embedded) {
        this.fail({ code: 'not_embedded', message: 'This cookieless embed needs its host page, and the host page\'s embed_domain must be allowed.' });
        return;
      }
      if (lk.boot.sessionTtl !== undefined) {
        this.bridge.send('session:status', looker.events.sessionStatus({ sessionTtl: lk.boot.sessionTtl, expired: false, interrupted: false, recoverable: true }));
      }
      if (lk.boot.apiToken) lk.tokens.seed(lk.boot.apiToken);
      try {
        await withTimeout(lk.tokens.token(), TOKEN_TIMEOUT_MS);
        performance.mark('inlay:token');
      } catch (e) {
        if (!(e instanceof looker.SessionExpired)) this.fail({ code: 'token_unavailable', message: 'The host page did not provide session tokens.' });
        return;
      }
    }
    const initial = { ...looker.urlFilters(location.search), ...lk.boot.filters };
    await this.loadLooker(lk, initial);
  }

  /** Loads the current dashboard's definition, applies Looker-keyed filters, reports it and runs it. */
  private async loadLooker(lk: LookerState, filters: Record<string, unknown>): Promise<void> {
    void loadCharts().catch(() => undefined);
    let loaded;
    try {
      loaded = await this.api.dashboard();
    } catch (e) {
      if (lk.ended || e instanceof looker.SessionExpired) return;
      this.fail(apiError(e), e instanceof ApiFailure ? e.status : 500);
      return;
    }
    performance.mark('inlay:dashboard');
    this.dashboard = loaded.dashboard;
    this.capabilities = loaded.viewer?.capabilities ?? [];
    const raw = { ...filters, ...lk.pendingFilters };
    lk.pendingFilters = undefined;
    this.pendingFilters = looker.filtersFromLooker(this.dashboard.filters ?? [], raw);
    this.renderDashboard();
    const detail = looker.dashboardDetail(this.dashboard, this.values, lk.ctx);
    this.bridge.send('page:changed', looker.events.pageChanged(detail.url, lk.ctx));
    this.bridge.send('dashboard:loaded', looker.events.loaded(detail));
    await this.run();
  }

  /** dashboard:stop: abandons the run in flight; its tiles say so. */
  private stop(): void {
    if (!this.running || !this.dashboard) return;
    this.running = false;
    this.runSeq++;
    this.runAbort?.abort();
    this.content.classList.remove('is-running');
    const outcomes: looker.TileOutcome[] = [];
    for (const t of this.runnable()) {
      if (t.status !== 'loading') {
        outcomes.push({ widget: t.widget, error: t.error });
        continue;
      }
      const err = { code: 'stopped', message: 'The run was stopped.' };
      t.setError(err);
      outcomes.push({ widget: t.widget, error: err });
    }
    if (this.looker) {
      const detail = looker.dashboardDetail(this.dashboard, this.values, this.looker.ctx);
      this.bridge.send('dashboard:run:complete', looker.events.runComplete(detail, outcomes, true));
    }
  }

  /**
   * dashboard:load {id} and page:load {url}: opens another dashboard in this frame with the same
   * session (no new login, no reload), with the filters of the url's query.
   */
  private navigate(payload: unknown): void {
    const lk = this.looker;
    const target = looker.loadTarget(payload);
    if (!lk || !target || lk.ended) return;
    const p = payload as { pushHistory?: boolean };
    this.runSeq++;
    this.runAbort?.abort();
    this.running = false;
    this.exitFullscreen();
    this.cfg.dashboardId = target.id;
    this.api.dashboardId = target.id;
    this.dashboard = undefined;
    this.tiles = [];
    this.filterBar = undefined;
    this.values = {};
    this.main.replaceChildren(pageSkeleton());
    const q = new URLSearchParams(target.search);
    if (lk.boot.embedDomain && !q.has('embed_domain')) q.set('embed_domain', lk.boot.embedDomain);
    if (!q.has('sdk')) q.set('sdk', '3');
    const url = `/embed/dashboards/${encodeURIComponent(target.id)}?${q.toString()}`;
    try {
      if (p.pushHistory) history.pushState(null, '', url);
      else history.replaceState(null, '', url);
    } catch {
      // a sandboxed frame may refuse; the dashboard still loads
    }
    void this.loadLooker(lk, looker.urlFilters(target.search));
  }

  /** env:host:scroll: remembers which part of the frame the host page shows (for the toast). */
  private hostScrolled(p: unknown): void {
    const s = p as { offsetTop?: unknown; scrollY?: unknown } | undefined;
    if (typeof s?.offsetTop !== 'number' || typeof s?.scrollY !== 'number') return;
    this.hostVisibleTop = Math.max(0, s.scrollY - s.offsetTop);
  }

  /** The Looker embed session ended (ttl 0, or the API refused it): say so and stop for good. */
  private sessionEnded(): void {
    const lk = this.looker;
    if (!lk || lk.ended) return;
    lk.ended = true;
    this.runSeq++;
    this.runAbort?.abort();
    this.running = false;
    if (lk.boot.auth === 'cookie') {
      this.bridge.send('session:status', looker.events.sessionStatus({ sessionTtl: 0, expired: true, interrupted: false, recoverable: false }));
    }
    this.bridge.send('session:expired', looker.events.sessionExpired());
    this.fail({ code: 'session_expired', message: 'Your session has ended. Reload the page to sign in again.' }, 401);
  }

  // ---- layout ----

  private renderDashboard(): void {
    const d = this.dashboard!;
    const filters = d.filters ?? [];
    this.values = defaults(filters);
    if (this.pendingFilters) this.mergeFilters(this.pendingFilters);
    this.pendingFiltersSeen = this.pendingFilters;
    this.pendingFilters = undefined;

    const canDownload = this.capabilities.includes('download') && (!this.looker || this.looker.canDownload);
    const widgets = [...(d.widgets ?? [])].sort((a, b) => (a.layout?.y ?? 0) - (b.layout?.y ?? 0) || (a.layout?.x ?? 0) - (b.layout?.x ?? 0));
    this.tiles = widgets.map(
      (w) =>
        new Tile(w, {
          canDownload,
          download: (t, format) => void (format === 'xlsx' ? this.downloadXLSX(t) : this.download(t)),
          fullscreen: (t) => this.toggleFullscreen(t),
          retry: (t) => void this.retryTile(t),
          crossFilter: (t, f, v) => this.crossFilter(t, f, v),
          canCrossFilter: (f) => this.filterFor(f) !== undefined,
        }),
    );
    // Charts mark the time buckets the period filter cuts.
    const period = filters.find((f) => f.type === 'date_range');
    if (period) for (const t of this.tiles) t.periodRange = () => (this.values[period.name] ?? {}) as { from?: string; to?: string };
    if (filters.length) {
      this.filterBar = new FilterBar(filters, this.values, (v) => {
        this.values = v;
        for (const t of this.tiles) t.firstPage();
        this.bridge.send('dashboard:filters:changed', this.filtersChanged());
        void this.run();
      });
    }
    const tablist = this.renderTabs(d);
    const refresh = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Refresh data', title: 'Refresh', onclick: () => void this.run() }, icon(icons.refresh));
    this.main.replaceChildren();
    append(this.main, [
      h('header', { class: 'dash-head' }, h('div', { class: 'dash-titles' }, h('h1', { class: 'dash-title' }, d.title || d.id), d.description ? h('p', { class: 'dash-desc' }, d.description) : null), this.updated, refresh),
      this.filterBar?.el ?? null,
      this.crossChip,
      this.banner.el,
      tablist,
      this.tiles.length
        ? h('div', { class: 'grid', ...(tablist ? { role: 'tabpanel', id: 'inlay-tabpanel', 'aria-labelledby': `inlay-tab-${this.page}` } : {}) }, this.tiles.map((t) => t.el))
        : h('div', { class: 'state state--empty page-state' }, h('p', { class: 'state-text' }, 'This dashboard has no widgets yet.')),
    ]);
    this.showPage();
  }

  // ---- pages (tabs) ----

  /** The tab strip of a dashboard with pages (null without): a WAI-ARIA tablist with arrow keys. */
  private renderTabs(d: Dashboard): HTMLElement | null {
    const pages = d.pages ?? [];
    this.tabs = [];
    if (!pages.length) {
      this.page = '';
      return null;
    }
    if (!pages.some((p) => p.name === this.page)) this.page = pages[0].name;
    this.tabs = pages.map((p, i) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          class: 'tab',
          id: `inlay-tab-${p.name}`,
          'data-page': p.name,
          'aria-controls': 'inlay-tabpanel',
          onclick: () => this.selectPage(p.name),
          onkeydown: (ev: Event) => {
            const e = ev as KeyboardEvent;
            const n = pages.length;
            const to = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i - 1 + n) % n : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : -1;
            if (to < 0) return;
            e.preventDefault();
            this.selectPage(pages[to].name);
            this.tabs[to].focus();
          },
        },
        p.title || p.name,
      ) as HTMLButtonElement,
    );
    return h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Dashboard pages' }, this.tabs);
  }

  /** Marks the current tab and shows only its page's tiles. */
  private showPage(): void {
    for (const b of this.tabs) {
      const on = b.dataset.page === this.page;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    this.main.querySelector('[role=tabpanel]')?.setAttribute('aria-labelledby', `inlay-tab-${this.page}`);
    for (const t of this.tiles) {
      t.el.hidden = !this.onPage(t);
      if (t.el.hidden) t.setIdle();
    }
  }

  private onPage(t: Tile): boolean {
    return !this.tabs.length || t.widget.page === this.page;
  }

  /** The tiles a run queries: the shown page's, without text tiles. */
  private runnable(): Tile[] {
    return this.tiles.filter((t) => t.widget.type !== 'text' && this.onPage(t));
  }

  /** Switches to another page, tells the host, and runs that page's widgets. */
  private selectPage(name: string): void {
    const p = this.dashboard?.pages?.find((x) => x.name === name);
    if (!p || name === this.page) return;
    this.exitFullscreen();
    this.page = name;
    this.showPage();
    this.bridge.send('dashboard:page:changed', { dashboard: this.info(), page: { name: p.name, title: p.title || p.name } });
    void this.run();
  }

  /**
   * Shows "Connect your … account" for the integrations this viewer has not connected, and loads
   * the dashboard once the popup login has connected them.
   */
  private async connect(again: boolean): Promise<void> {
    let needs;
    try {
      needs = (await this.api.oauth()).integrations;
    } catch (e) {
      this.fail(apiError(e));
      return;
    }
    if (!needs.some((n) => !n.connected)) {
      // Connected meanwhile (another tab): just load.
      await this.load();
      return;
    }
    const prompt = connectPrompt(needs, again);
    this.main.replaceChildren(prompt.el);
    this.bridge.send('dashboard:error', { code: 'login_required', message: 'The viewer must connect an account this dashboard uses.' });
    await prompt.done;
    this.main.replaceChildren(pageSkeleton());
    await this.load();
  }

  private fail(e: ApiError, status = 500): void {
    this.bridge.send('dashboard:error', { code: e.code, message: e.message });
    const cause = e.code === 'not_embedded' ? undefined : causeOf(status, e);
    const action = cause?.action === 'reload' || cause?.action === 'retry' ? cause.action : undefined;
    this.main.replaceChildren(
      h(
        'div',
        { class: 'state state--error page-state', role: 'alert', 'data-code': e.code },
        h('span', { class: 'state-icon' }, icon(icons.alert)),
        h('p', { class: 'state-title' }, cause?.title ?? 'This dashboard could not be loaded'),
        h('p', { class: 'state-text' }, cause?.text ?? e.message),
        action ? h('button', { type: 'button', class: 'btn', onclick: () => location.reload() }, action === 'retry' ? 'Retry' : 'Reload') : null,
        h('code', { class: 'state-code' }, e.code),
      ),
    );
  }

  /** The banner's action: retry the run (asking for a token first if needed), reload, reset filters. */
  private onBannerAction(a: BannerAction): void {
    if (a === 'reload') {
      location.reload();
      return;
    }
    if (a === 'reset') {
      this.banner.hide();
      this.filterBar?.resetToDefaults();
      return;
    }
    this.banner.hide();
    if (this.looker) {
      // Looker mode: cookieless asks the host for fresh tokens first; a cookie session just runs.
      const tokens = this.looker.tokens;
      if (tokens && (this.banner.el.dataset.kind === 'session' || this.needsRerun)) {
        void tokens.token(tokens.apiToken).then(
          () => this.run(),
          () => undefined, // an ended session shows its own page
        );
        return;
      }
      void this.run();
      return;
    }
    if (this.banner.el.dataset.kind === 'session' || this.needsRerun) {
      void this.requestToken('expired').then(
        () => this.run(),
        () => this.run(),
      );
      return;
    }
    void this.run();
  }

  /** The page each table in tiles shows (tables are paged on the server). */
  private paging(tiles: Tile[]): { pages?: Record<string, import('./tile').PageRequest> } {
    const pages: Record<string, import('./tile').PageRequest> = {};
    for (const t of tiles) {
      const p = t.pageRequest();
      if (p) pages[t.name] = p;
    }
    return Object.keys(pages).length ? { pages } : {};
  }

  /** Runs one widget again (its tile's Retry, a table's page or sort). */
  private async retryTile(tile: Tile): Promise<void> {
    tile.setLoading();
    let r: import('./types').WidgetResult | undefined;
    let err: ApiError | undefined;
    try {
      r = (await this.api.query([tile.name], this.activeFilters(), undefined, false, this.paging([tile]))).results[tile.name];
      err = r?.error ?? (r ? undefined : { code: 'internal', message: 'The server returned no result for this widget.' });
    } catch (e) {
      err = apiError(e);
    }
    if (chartTypes.has(tile.widget.type) && !err) {
      try {
        await loadCharts();
      } catch {
        err = { code: 'network_error', message: 'The chart library could not be loaded. Check your connection.' };
      }
    }
    if (err) tile.setError(err);
    else tile.setResult(r!, this.theme);
    if (this.looker && this.dashboard) {
      const detail = looker.dashboardDetail(this.dashboard, this.values, this.looker.ctx);
      this.bridge.send('dashboard:tile:complete', looker.events.tileComplete(detail, { widget: tile.widget, error: err, truncated: r?.truncated }, this.dashboard.filters ?? []));
      return;
    }
    this.bridge.send('dashboard:tile:complete', { tile: { name: tile.name, title: tile.title, status: err ? 'error' : 'complete', rows: tile.rowCount, ...(err ? { error: { code: err.code, message: err.message } } : {}) } });
  }

  // ---- running widgets ----

  private activeFilters(): Record<string, FilterValue> {
    return Object.fromEntries(Object.entries(this.values).filter(([, v]) => v !== null));
  }

  private info(): Record<string, unknown> {
    const d = this.dashboard;
    if (this.looker && d) return looker.dashboardDetail(d, this.values, this.looker.ctx);
    return { id: d?.id ?? this.cfg.dashboardId, title: d?.title ?? '', dashboard_filters: { ...this.values } };
  }

  /**
   * Runs every widget with the current filters, or takes the results of a run already started
   * (the first one). If that run had the host's initial filters and the server refused them
   * (400), it runs again with the filters as the viewer understood them (unknown names dropped).
   */
  async run(started?: StartedRun, retryOnBadRequest = false): Promise<void> {
    const tiles = this.runnable();
    if (!this.dashboard || tiles.length === 0) {
      started?.abort.abort();
      return;
    }
    const seq = ++this.runSeq;
    this.needsRerun = false;
    this.runAbort?.abort();
    const abort = (this.runAbort = started?.abort ?? new AbortController());
    for (const t of tiles) t.setLoading();
    this.content.classList.add('is-running');
    this.running = true;
    if (this.looker) {
      const detail = looker.dashboardDetail(this.dashboard, this.values, this.looker.ctx);
      this.bridge.send('dashboard:run:start', looker.events.runStart(detail));
      for (const t of tiles) this.bridge.send('dashboard:tile:start', looker.events.tileStart(detail, t.widget, this.dashboard.filters ?? []));
    } else {
      this.bridge.send('dashboard:run:start', { dashboard: this.info() });
    }
    // The charts chunk is needed to draw; it loads alongside the query.
    const needCharts = tiles.some((t) => chartTypes.has(t.widget.type));
    const chartsReady = needCharts ? loadCharts().then(() => true, () => false) : Promise.resolve(true);

    let results: Record<string, import('./types').WidgetResult> | undefined;
    let failure: ApiError | undefined;
    let failureStatus = 0;
    try {
      const response = started?.response ?? this.api.query(tiles.map((t) => t.name), this.activeFilters(), abort.signal, false, this.paging(tiles));
      results = (await response).results;
    } catch (e) {
      if ((e as Error).name === 'AbortError' || seq !== this.runSeq) return;
      if (e instanceof looker.SessionExpired || (this.looker && this.looker.ended)) {
        this.running = false;
        return; // the page shows that the session ended
      }
      if (retryOnBadRequest && e instanceof ApiFailure && e.status === 400) {
        console.warn(`Inlay: the initial filters were refused (${e.error.code}: ${e.error.message}); running with the ones that apply.`);
        return this.run();
      }
      failure = apiError(e);
      failureStatus = e instanceof ApiFailure ? e.status : 500;
    }
    const chartsLoaded = await chartsReady;
    if (seq !== this.runSeq) return;
    performance.mark('inlay:results');
    this.content.classList.remove('is-running');
    this.running = false;
    const lk = this.looker;
    const detail = lk ? looker.dashboardDetail(this.dashboard, this.values, lk.ctx) : undefined;
    const outcomes: looker.TileOutcome[] = [];

    if (failure) {
      // One banner for the dashboard; tiles keep the data they had.
      const cause = causeOf(failureStatus, failure, this.dashboard.filters ?? []);
      this.banner.show(cause, failure.code);
      this.needsRerun = cause.kind !== 'filter';
      if (cause.kind !== 'filter') this.bridge.send('dashboard:error', { code: failure.code, message: failure.message });
    } else {
      this.banner.hide();
    }

    const tileStatuses = tiles.map((t) => {
      if (failure) {
        t.setUnavailable();
        if (lk && detail) {
          const outcome = { widget: t.widget, error: failure };
          outcomes.push(outcome);
          this.bridge.send('dashboard:tile:complete', looker.events.tileComplete(detail, outcome, this.dashboard?.filters ?? []));
        }
        return { tileId: t.name, status: 'error', errors: [{ code: failure.code, message: failure.message }] };
      }
      const r = results?.[t.name];
      const err =
        r?.error ??
        (r ? undefined : { code: 'internal', message: 'The server returned no result for this widget.' }) ??
        (chartTypes.has(t.widget.type) && !chartsLoaded ? { code: 'network_error', message: 'The chart library could not be loaded. Check your connection.' } : undefined);
      if (err) t.setError(err);
      else t.setResult(r!, this.theme);
      const status = err ? 'error' : 'complete';
      if (lk && detail) {
        const outcome = { widget: t.widget, error: err, truncated: r?.truncated };
        outcomes.push(outcome);
        this.bridge.send('dashboard:tile:complete', looker.events.tileComplete(detail, outcome, this.dashboard?.filters ?? []));
      } else {
        this.bridge.send('dashboard:tile:complete', { tile: { name: t.name, title: t.title, status, rows: t.rowCount, ...(err ? { error: { code: err.code, message: err.message } } : {}) } });
      }
      return { tileId: t.name, status, ...(err ? { errors: [{ code: err.code, message: err.message }] } : {}) };
    });
    this.equalizeCounters();
    if (!failure) {
      const now = new Date();
      this.updated.textContent = `Updated ${now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
      this.updated.title = now.toLocaleString();
    }
    performance.mark('inlay:rendered');
    if (detail) {
      this.bridge.send('dashboard:run:complete', looker.events.runComplete(detail, outcomes));
      return;
    }
    this.bridge.send('dashboard:run:complete', {
      dashboard: this.info(),
      status: tileStatuses.some((s) => s.status === 'error') ? 'error' : 'complete',
      tileStatuses,
    });
    const login = tiles.map((t) => (needsLogin(failure) ? failure : results?.[t.name]?.error)).find(needsLogin);
    if (login) await this.connect(login.code === 'refresh_failed');
  }

  /** The select filter that takes a field's values: the filter named like the field's column. */
  private filterFor(f: import('./types').Field): import('./types').Filter | undefined {
    const col = f.expr.trim();
    return (this.dashboard?.filters ?? []).find((x) => (x.type === 'single_select' || x.type === 'multi_select') && (x.name === col || x.name === f.key));
  }

  /**
   * Cross-filtering: a click on a bar, slice, point or row sets the matching filter, every tile
   * runs with it, the host hears dashboard:crossfilter, and a chip offers to undo it.
   */
  private crossFilter(tile: Tile, field: import('./types').Field, value: import('./types').Cell): boolean {
    const f = this.filterFor(field);
    if (!f || value === null || value === undefined) return false;
    const v = f.type === 'multi_select' ? [String(value)] : String(value);
    if (JSON.stringify(this.values[f.name] ?? null) === JSON.stringify(v)) return true;
    if (!this.crossUndo || this.crossUndo.name !== f.name) this.crossUndo = { name: f.name, previous: this.values[f.name] ?? null };
    this.values = { ...this.values, [f.name]: v };
    for (const t of this.tiles) t.firstPage();
    this.filterBar?.set(this.values);
    const label = f.title || f.name;
    const shown = String(value);
    this.crossChip.replaceChildren(
      h('span', {}, `${label}: `, h('b', {}, shown), ` (from ${tile.title})`),
      h('button', { type: 'button', class: 'link-btn', 'data-action': 'clear-cross-filter', onclick: () => this.clearCrossFilter() }, 'Clear'),
    );
    this.crossChip.hidden = false;
    this.bridge.send('dashboard:crossfilter', { dashboard: this.info(), tile: { name: tile.name, title: tile.title }, filter: f.name, value: v });
    this.bridge.send('dashboard:filters:changed', this.filtersChanged());
    void this.run();
    return true;
  }

  private clearCrossFilter(): void {
    const u = this.crossUndo;
    this.crossChip.hidden = true;
    this.crossUndo = undefined;
    if (!u) return;
    this.values = { ...this.values, [u.name]: u.previous };
    for (const t of this.tiles) t.firstPage();
    this.filterBar?.set(this.values);
    this.bridge.send('dashboard:crossfilter', { dashboard: this.info(), filter: u.name, value: u.previous, cleared: true });
    this.bridge.send('dashboard:filters:changed', this.filtersChanged());
    void this.run();
  }

  /** Counters in one row of the grid share one type size: that of the longest value. */
  private equalizeCounters(): void {
    const rows = new Map<number, HTMLElement[]>();
    for (const t of this.tiles) {
      const v = t.widget.type === 'counter' ? t.el.querySelector<HTMLElement>('.counter-value') : null;
      if (!v) continue;
      const y = t.widget.layout?.y ?? 0;
      rows.set(y, [...(rows.get(y) ?? []), v]);
    }
    for (const values of rows.values()) {
      const len = Math.max(4, ...values.map((v) => (v.title || v.textContent || '').length));
      for (const v of values) v.style.setProperty('--len', String(len));
    }
  }

  // ---- host actions ----

  private mergeFilters(incoming: Record<string, unknown>): void {
    const next = { ...this.values };
    for (const f of this.dashboard?.filters ?? []) {
      if (Object.hasOwn(incoming, f.name)) next[f.name] = normalize(f, incoming[f.name]);
    }
    this.values = next;
  }

  private updateFilters(filters: unknown): void {
    if (!filters || typeof filters !== 'object') return;
    if (this.looker) {
      // Keyed by filter title with Looker filter expressions, as Looker's are.
      if (!this.dashboard) {
        this.looker.pendingFilters = { ...this.looker.pendingFilters, ...(filters as Record<string, unknown>) };
        return;
      }
      filters = looker.filtersFromLooker(this.dashboard.filters ?? [], filters as Record<string, unknown>);
    }
    if (!this.dashboard) {
      // Before the dashboard is loaded: apply with the defaults, before the first run.
      this.pendingFilters = { ...this.pendingFilters, ...(filters as Record<string, unknown>) };
      return;
    }
    this.mergeFilters(filters as Record<string, unknown>);
    for (const t of this.tiles) t.firstPage();
    this.filterBar?.set(this.values);
    this.bridge.send('dashboard:filters:changed', this.filtersChanged());
    // Looker applies updated filters at the next dashboard:run; Inlay runs at once.
    if (!this.looker) void this.run();
  }

  private filtersChanged(): Record<string, unknown> {
    if (this.looker && this.dashboard) return looker.events.filtersChanged(looker.dashboardDetail(this.dashboard, this.values, this.looker.ctx));
    return { dashboard: this.info() };
  }

  private setTheme(theme: unknown): void {
    this.themeOverride = parseTheme(theme);
    this.theme = resolveTheme(this.themeOverride);
    applyTheme(this.theme);
    for (const t of this.tiles) t.retheme(this.theme);
  }

  // ---- tile actions ----

  private async downloadXLSX(tile: Tile): Promise<void> {
    const btn = tile.el.querySelector<HTMLButtonElement>('[data-action="download-xlsx"]');
    if (btn) btn.disabled = true;
    try {
      const blob = await this.api.exportXLSX(tile.name, this.activeFilters());
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${this.cfg.dashboardId}-${tile.name}.xlsx`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      this.showToast(`Download failed: ${describeError(apiError(e))}`);
    } finally {
      if (btn) btn.disabled = false;
    }
  }

  private async download(tile: Tile): Promise<void> {
    const btn = tile.el.querySelector<HTMLButtonElement>('[data-action="download"]');
    if (btn) btn.disabled = true;
    try {
      // A pivot downloads as the grid on screen (built here); other widgets from the server.
      const blob =
        tile.widget.type === 'pivot' && tile.data
          ? new Blob([pivotCSV(tile.widget, tile.data)], { type: 'text/csv' })
          : await this.api.exportCSV(tile.name, this.activeFilters());
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${this.cfg.dashboardId}-${tile.name}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      if (this.looker && this.dashboard) {
        const detail = looker.dashboardDetail(this.dashboard, this.values, this.looker.ctx);
        this.bridge.send('dashboard:tile:download', looker.events.tileDownload(detail, tile.widget, this.dashboard.filters ?? []));
      } else {
        this.bridge.send('dashboard:tile:download', { tile: { name: tile.name, title: tile.title }, rows: csvRecords(await blob.text()) });
      }
    } catch (e) {
      this.showToast(`Download failed: ${describeError(apiError(e))}`);
    } finally {
      if (btn) btn.disabled = false;
    }
  }

  private toggleFullscreen(tile: Tile): void {
    if (this.fullTile?.tile === tile) {
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => this.exitFullscreen());
      else this.exitFullscreen();
      return;
    }
    if (this.fullTile) this.exitFullscreen();
    // A placeholder keeps the tile's place so the page height does not change.
    const placeholder = h('div', { class: 'tile tile-placeholder', style: tile.el.getAttribute('style') ?? '', 'aria-hidden': 'true' });
    tile.el.before(placeholder);
    tile.el.classList.add('tile--full');
    this.fullTile = { tile, placeholder };
    if (this.looker) this.bridge.send('env:client:dialog', looker.events.dialog(true, 'tile_fullscreen'));
    if (document.fullscreenEnabled) tile.el.requestFullscreen?.().catch(() => undefined);
    tile.el.querySelector<HTMLButtonElement>('.tile-close')?.focus();
    requestAnimationFrame(() => tile.resize());
  }

  private exitFullscreen(): void {
    const f = this.fullTile;
    if (!f) return;
    this.fullTile = undefined;
    if (this.looker) this.bridge.send('env:client:dialog', looker.events.dialog(false, 'tile_fullscreen'));
    f.tile.el.classList.remove('tile--full');
    f.placeholder.remove();
    f.tile.el.querySelector<HTMLButtonElement>('.tile-expand')?.focus();
    requestAnimationFrame(() => f.tile.resize());
  }

  private showToast(text: string): void {
    this.toast.textContent = text;
    if (this.hostVisibleTop !== undefined) this.toast.style.top = `${this.hostVisibleTop + 16}px`;
    this.toast.hidden = false;
    setTimeout(() => (this.toast.hidden = true), 5000);
  }

  // ---- height ----

  /**
   * Reports the content's height to the host on growth and shrink. It measures the content
   * element, not the document (whose scroll height is at least the iframe's height), and the
   * content's height never depends on the iframe's height, so resizing the iframe cannot loop.
   */
  private watchHeight(): void {
    const report = () => {
      const height = Math.ceil(this.content.getBoundingClientRect().height);
      if (height === this.lastHeight) return;
      this.lastHeight = height;
      this.bridge.send('page:properties:changed', this.looker ? looker.events.pageProperties(height) : { height });
    };
    new ResizeObserver(report).observe(this.content);
  }
}

/** Looker mode's state (docs/embedding.md, "Looker mode"). */
interface LookerState {
  boot: LookerBootstrap;
  ctx: looker.PageContext;
  theme?: ThemeOverride;
  canDownload: boolean;
  tokens?: looker.TokenCycle;
  /** Looker-keyed filters from dashboard:filters:update before the dashboard loaded. */
  pendingFilters?: Record<string, unknown>;
  ended: boolean;
}

function lookerState(boot: LookerBootstrap): LookerState {
  const q = new URLSearchParams(location.search);
  return {
    boot,
    ctx: { origin: location.origin, embedDomain: boot.embedDomain },
    theme: looker.lookerTheme(boot.theme ?? q.get('theme') ?? undefined, q.get('_theme')),
    canDownload: boot.permissions.includes('download_with_limit') || boot.permissions.includes('download_without_limit'),
    ended: false,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

function apiError(e: unknown): ApiError {
  if (e instanceof ApiFailure) return e.error;
  return { code: 'internal', message: e instanceof Error ? e.message : 'Something went wrong.' };
}

function pageSkeleton(): HTMLElement {
  return h(
    'div',
    { class: 'page-skeleton', 'aria-busy': 'true', 'aria-label': 'Loading dashboard' },
    h('div', { class: 'sk w25 tall' }),
    h('div', { class: 'grid' }, [3, 3, 3, 3, 8, 4].map((w) => h('div', { class: 'tile', style: `--w:${w};--h:${w === 3 ? 2 : 4}` }, h('div', { class: 'sk block' })))),
  );
}

function readConfig(boot?: LookerBootstrap): PageConfig {
  const el = document.getElementById('inlay-config');
  const raw = el?.textContent ? JSON.parse(el.textContent) : {};
  return {
    dashboardId: boot?.dashboardId || String(raw.dashboardId ?? ''),
    apiBase: String(raw.apiBase ?? ''),
    embedDomain: boot?.embedDomain || String(raw.embedDomain ?? ''),
    theme: typeof raw.theme === 'string' ? raw.theme : undefined,
  };
}

// Performance marks (inlay:boot, :token, :dashboard, :results, :rendered) let e2e/perf.mjs say
// where a load's time goes.
performance.mark('inlay:boot');
const mount = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
const boot = looker.parseBootstrap(document.getElementById('inlay-bootstrap')?.textContent);
void new Viewer(readConfig(boot), mount, boot).start();
