// The Looker embed protocol of the viewer (docs/embedding.md, "Looker mode"): the page's
// bootstrap, Looker's filter expressions keyed by filter titles, the payloads of the events the
// Looker Embed SDK listens to, and the cookieless token cycle (session:tokens:request ->
// session:tokens). Everything here is free of the DOM so that it is unit-tested in node.

import type { Dashboard, Filter, FilterValue, ThemeOverride, Widget } from './types';

/** What the server puts in <script id="inlay-bootstrap" type="application/json"> in Looker mode. */
export interface LookerBootstrap {
  mode: 'looker';
  /** cookie: the signed-URL session cookie; cookieless: api tokens from the host page. */
  auth: 'cookie' | 'cookieless';
  dashboardId: string;
  /** True when embed_domain is allowed: only then the viewer talks to the host page. */
  events: boolean;
  embedDomain: string;
  permissions: string[];
  /** Filters from the URL, keyed by filter title (or name), as Looker filter expressions. */
  filters: Record<string, string>;
  theme?: string;
  /** Seconds left in the embed session, when the server says. */
  sessionTtl?: number;
  /** Cookieless: the session's current api token, so the first calls need not wait for the host. */
  apiToken?: string;
  apiTokenTtl?: number;
}

/** Parses the bootstrap JSON; undefined when it is absent or not in Looker mode. */
export function parseBootstrap(text: string | null | undefined): LookerBootstrap | undefined {
  if (!text) return undefined;
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || raw.mode !== 'looker') return undefined;
  const filters: Record<string, string> = {};
  if (raw.filters && typeof raw.filters === 'object' && !Array.isArray(raw.filters)) {
    for (const [k, v] of Object.entries(raw.filters)) {
      if (typeof v === 'string') filters[k] = v;
      else if (Array.isArray(v)) filters[k] = v.map(String).map(escapeValue).join(',');
      else if (v !== null && v !== undefined) filters[k] = String(v);
    }
  }
  return {
    mode: 'looker',
    auth: raw.auth === 'cookieless' ? 'cookieless' : 'cookie',
    dashboardId: String(raw.dashboard_id ?? raw.dashboardId ?? ''),
    events: raw.events === true,
    embedDomain: typeof raw.embed_domain === 'string' ? raw.embed_domain : '',
    permissions: Array.isArray(raw.permissions) ? raw.permissions.filter((p: unknown) => typeof p === 'string') : [],
    filters,
    theme: typeof raw.theme === 'string' && raw.theme !== '' ? raw.theme : undefined,
    sessionTtl: typeof raw.session_ttl === 'number' ? raw.session_ttl : undefined,
    apiToken: typeof raw.api_token === 'string' && raw.api_token !== '' ? raw.api_token : undefined,
    apiTokenTtl: typeof raw.api_token_ttl === 'number' ? raw.api_token_ttl : undefined,
  };
}

/** Query parameters of an embed URL that are not filters. */
const RESERVED = new Set([
  'embed_domain',
  'sdk',
  'embed_navigation_token',
  'embed_authentication_token',
  'theme',
  '_theme',
  'allow_login_screen',
  'sandboxed_host',
  'hide_filter',
  'hide_title',
]);

/** The filter parameters of an embed URL's query (keys as given: titles or names). */
export function urlFilters(search: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    if (!RESERVED.has(k)) out[k] = v;
  }
  return out;
}

/**
 * The viewer's theme from Looker's URL parameters: `theme` names a theme (light or dark here),
 * `_theme` is a JSON object of theme settings (background_color, key_color, text_tile_text_color,
 * tile_background_color, font_family) that override it.
 */
export function lookerTheme(theme: string | undefined, overrides: string | null | undefined): ThemeOverride | undefined {
  const out: ThemeOverride = {};
  const name = (theme ?? '').toLowerCase();
  if (name === 'dark' || name === 'light') out.mode = name;
  if (overrides) {
    try {
      const o = JSON.parse(overrides);
      if (o && typeof o === 'object') {
        const colors: Record<string, string> = {};
        const pick = (key: string, to: string) => {
          if (typeof o[key] === 'string' && o[key]) colors[to] = o[key];
        };
        pick('key_color', 'primary');
        pick('background_color', 'background');
        pick('tile_background_color', 'surface');
        pick('text_tile_text_color', 'text');
        if (Object.keys(colors).length) out.colors = colors;
        if (typeof o.font_family === 'string' && o.font_family) out.font = o.font_family;
      }
    } catch {
      // not JSON: ignored, as Looker does with a theme it cannot read
    }
  }
  return out.mode || out.colors || out.font ? out : undefined;
}

// ---- filter expressions ----

/** Splits a Looker filter expression on commas not escaped as "^,". */
export function splitExpression(expr: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '^' && i + 1 < expr.length) {
      cur += expr[++i];
    } else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur.trim());
  return out.filter((s) => s !== '');
}

/** Escapes a single value for a Looker filter expression (commas and carets). */
export function escapeValue(v: string): string {
  return v.replace(/\^/g, '^^').replace(/,/g, '^,');
}

const DATE = /^\d{4}[-/]\d{2}[-/]\d{2}$/;
const isoDate = (s: string) => s.replace(/\//g, '-');

/**
 * Reads a Looker filter expression into the value of an Inlay filter. "" (Looker's "is any
 * value") is null. Values already in Inlay's form (arrays, range objects) are taken as they are.
 * Understood: select lists "a,b" (with "^," escapes); date ranges "2024-01-01 to 2024-06-30"
 * (end exclusive in Looker; kept as given), "after 2024-01-01", "before 2024-06-30", a single
 * date; numeric ranges "[1,10]", ">=1", "<=10", ">=1 AND <=10", "1 to 10", a single number.
 * Anything else is undefined: the filter keeps its value.
 */
export function fromLooker(f: Filter, v: unknown): FilterValue | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return v as FilterValue;
  const expr = v.trim();
  if (expr === '') return null;
  switch (f.type) {
    case 'single_select':
      return splitExpression(expr)[0] ?? null;
    case 'multi_select':
      return splitExpression(expr);
    case 'date_range': {
      let m = /^(\S+)\s+to\s+(\S+)$/i.exec(expr);
      if (m && DATE.test(m[1]) && DATE.test(m[2])) return { from: isoDate(m[1]), to: isoDate(m[2]) };
      m = /^(?:after|on or after)\s+(\S+)$/i.exec(expr);
      if (m && DATE.test(m[1])) return { from: isoDate(m[1]) };
      m = /^before\s+(\S+)$/i.exec(expr);
      if (m && DATE.test(m[1])) return { to: isoDate(m[1]) };
      if (DATE.test(expr)) return { from: isoDate(expr), to: isoDate(expr) };
      return undefined;
    }
    case 'numeric_range': {
      const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : Number(s));
      const range = (min?: number, max?: number) => {
        if ((min !== undefined && !Number.isFinite(min)) || (max !== undefined && !Number.isFinite(max))) return undefined;
        const out: { min?: number; max?: number } = {};
        if (min !== undefined) out.min = min;
        if (max !== undefined) out.max = max;
        return out.min !== undefined || out.max !== undefined ? out : undefined;
      };
      let m = /^\[\s*([^,\]]*)\s*,\s*([^\]]*)\s*\]$/.exec(expr);
      if (m) return range(num(m[1]), num(m[2]));
      m = /^>=\s*(\S+)\s+and\s+<=\s*(\S+)$/i.exec(expr);
      if (m) return range(num(m[1]), num(m[2]));
      m = /^(\S+)\s+to\s+(\S+)$/i.exec(expr);
      if (m) return range(num(m[1]), num(m[2]));
      m = /^>=\s*(\S+)$/.exec(expr);
      if (m) return range(num(m[1]), undefined);
      m = /^<=\s*(\S+)$/.exec(expr);
      if (m) return range(undefined, num(m[1]));
      const n = num(expr);
      return n !== undefined ? range(n, n) : undefined;
    }
  }
  return undefined;
}

/** Writes an Inlay filter value as a Looker filter expression ("" for no restriction). */
export function toLooker(f: Filter, v: FilterValue | undefined): string {
  if (v === null || v === undefined) return '';
  switch (f.type) {
    case 'single_select':
      return typeof v === 'string' ? escapeValue(v) : '';
    case 'multi_select':
      return Array.isArray(v) ? v.map(escapeValue).join(',') : '';
    case 'date_range': {
      const r = v as { from?: string; to?: string };
      if (r.from && r.to) return `${r.from} to ${r.to}`;
      if (r.from) return `after ${r.from}`;
      if (r.to) return `before ${r.to}`;
      return '';
    }
    case 'numeric_range': {
      const r = v as { min?: number; max?: number };
      if (r.min !== undefined && r.max !== undefined) return `[${r.min},${r.max}]`;
      if (r.min !== undefined) return `>=${r.min}`;
      if (r.max !== undefined) return `<=${r.max}`;
      return '';
    }
  }
  return '';
}

/**
 * Maps filters keyed as Looker does (by filter title; Inlay's filter name is accepted too) to
 * Inlay filter values keyed by name. Keys matching no filter and expressions that cannot be read
 * are left out (the filter keeps its value), as Looker ignores unknown filters.
 */
export function filtersFromLooker(filters: Filter[], incoming: Record<string, unknown>): Record<string, FilterValue> {
  const out: Record<string, FilterValue> = {};
  for (const f of filters) {
    const key = Object.hasOwn(incoming, f.title) ? f.title : Object.hasOwn(incoming, f.name) ? f.name : undefined;
    if (key === undefined) continue;
    const v = fromLooker(f, incoming[key]);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

/** Inlay filter values as Looker's dashboard_filters: title -> expression. */
export function dashboardFilters(filters: Filter[], values: Record<string, FilterValue>): Record<string, string> {
  return Object.fromEntries(filters.map((f) => [f.title || f.name, toLooker(f, values[f.name] ?? null)]));
}

// ---- event payloads ----

/** Where the page is: origin (https://inlay.example) and the host page's origin. */
export interface PageContext {
  origin: string;
  embedDomain: string;
}

/** The dashboard's URL as Looker reports it: /embed/dashboards/{id}?{filters}&embed_domain=..&sdk=3 */
export function dashboardUrl(id: string, filters: Record<string, string>, ctx: PageContext): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) q.append(k, v);
  if (ctx.embedDomain) q.append('embed_domain', ctx.embedDomain);
  q.append('sdk', '3');
  return `/embed/dashboards/${encodeURIComponent(id)}?${q.toString()}`;
}

function elementId(w: Widget): string {
  return w.name;
}

/** Looker's dashboard options: elements by id (title, visualization type) and the layout. */
export function dashboardOptions(d: Dashboard) {
  const widgets = d.widgets ?? [];
  const layoutId = `${d.id}-layout`;
  return {
    elements: Object.fromEntries(widgets.map((w) => [elementId(w), { title: w.title, title_hidden: false, vis_config: { type: w.type } }])),
    layouts: [
      {
        id: layoutId,
        dashboard_id: d.id,
        type: 'newspaper' as const,
        active: true,
        column_width: 1,
        width: null,
        deleted: false,
        dashboard_layout_components: widgets.map((w) => ({
          id: `${layoutId}-${w.name}`,
          dashboard_layout_id: layoutId,
          dashboard_element_id: elementId(w),
          row: w.layout?.y ?? 0,
          column: w.layout?.x ?? 0,
          width: w.layout?.w ?? 0,
          height: w.layout?.h ?? 0,
          deleted: false,
        })),
      },
    ],
  };
}

/** The `dashboard` object of Looker's dashboard events. */
export function dashboardDetail(d: Dashboard, values: Record<string, FilterValue>, ctx: PageContext) {
  const dashboard_filters = dashboardFilters(d.filters ?? [], values);
  const url = dashboardUrl(d.id, dashboard_filters, ctx);
  return {
    id: d.id,
    title: d.title ?? '',
    canEdit: false,
    dashboard_filters,
    absoluteUrl: ctx.origin + url,
    url,
    options: dashboardOptions(d),
  };
}

export type DashboardDetail = ReturnType<typeof dashboardDetail>;

/** A query error in Looker's shape, with Inlay's stable code kept alongside. */
export function queryError(e: { code: string; message: string }) {
  return { message: e.message, message_details: null, params: null, error_pos: null, level: 'error', fatal: true, sql_error_loc: null, code: e.code };
}

/** The `tile` object of Looker's tile events: id, title and the filters it listens to. */
export function tileDetail(w: Widget, filters: Filter[]) {
  return { id: w.name, title: w.title, listen: Object.fromEntries(filters.map((f) => [f.title || f.name, f.name])) };
}

export interface TileOutcome {
  widget: Widget;
  error?: { code: string; message: string };
  truncated?: boolean;
}

/** Looker's event payloads: every one carries its type, as Looker's do. */
export const events = {
  loaded: (dashboard: DashboardDetail) => ({ type: 'dashboard:loaded', dashboard }),
  runStart: (dashboard: DashboardDetail) => ({ type: 'dashboard:run:start', dashboard }),
  runComplete: (dashboard: DashboardDetail, tiles: TileOutcome[], stopped = false) => {
    const tileStatuses = tiles.map((t) => ({
      tileId: t.widget.name,
      status: (t.error ? 'error' : 'complete') as 'error' | 'complete',
      ...(t.error ? { errors: [queryError(t.error)] } : {}),
    }));
    const status = stopped ? 'stopped' : tileStatuses.some((s) => s.status === 'error') ? 'error' : 'complete';
    return { type: 'dashboard:run:complete', dashboard, status, tileStatuses };
  },
  filtersChanged: (dashboard: DashboardDetail) => ({ type: 'dashboard:filters:changed', dashboard }),
  tileStart: (dashboard: DashboardDetail, w: Widget, filters: Filter[]) => ({ type: 'dashboard:tile:start', dashboard, tile: tileDetail(w, filters) }),
  tileComplete: (dashboard: DashboardDetail, t: TileOutcome, filters: Filter[]) => ({
    type: 'dashboard:tile:complete',
    dashboard,
    tile: tileDetail(t.widget, filters),
    status: t.error ? 'error' : 'complete',
    truncated: t.truncated ?? false,
    ...(t.error ? { errors: [queryError(t.error)] } : {}),
  }),
  tileDownload: (dashboard: DashboardDetail, w: Widget, filters: Filter[], fileFormat = 'csv') => ({
    type: 'dashboard:tile:download',
    dashboard,
    tile: tileDetail(w, filters),
    fileFormat,
  }),
  pageChanged: (url: string, ctx: PageContext) => ({
    type: 'page:changed',
    page: { type: 'dashboards', url, absoluteUrl: ctx.origin + url, lookerVersion: LOOKER_VERSION },
  }),
  pageProperties: (height: number) => ({ type: 'page:properties:changed', height }),
  dialog: (open: boolean, dialogType: string, placement: 'cover' | 'top' | 'center' = 'cover') => ({ type: 'env:client:dialog', open, placement, dialogType }),
  sessionStatus: (s: SessionState) => ({ type: 'session:status', session_ttl: s.sessionTtl, expired: s.expired, interrupted: s.interrupted, recoverable: s.recoverable }),
  sessionExpired: () => ({ type: 'session:expired' }),
};

/**
 * The Looker release whose embed protocol the viewer speaks, reported in page:changed. From 25
 * on, the Embed SDK's loadDashboard() sends page:load (which the viewer obeys, as it does the
 * older dashboard:load).
 */
export const LOOKER_VERSION = '25.0.0';

/** Reads the target of a `page:load` url or a `dashboard:load` id: the dashboard id and its query. */
export function loadTarget(payload: unknown): { id: string; search: string } | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  const p = payload as Record<string, unknown>;
  if (typeof p.url === 'string') {
    let u: URL;
    try {
      u = new URL(p.url, 'https://inlay.invalid');
    } catch {
      return undefined;
    }
    const m = /^\/embed\/dashboards(?:-next)?\/([^/]+)\/?$/.exec(u.pathname);
    if (!m) return undefined;
    return { id: decodeURIComponent(m[1]), search: u.search };
  }
  if (typeof p.id === 'string' || typeof p.id === 'number') {
    const id = String(p.id);
    return id ? { id, search: '' } : undefined;
  }
  return undefined;
}

// ---- cookieless tokens ----

export interface SessionTokens {
  api_token?: string | null;
  api_token_ttl?: number | null;
  navigation_token?: string | null;
  navigation_token_ttl?: number | null;
  session_reference_token_ttl?: number | null;
}

export interface SessionState {
  sessionTtl: number;
  expired: boolean;
  interrupted: boolean;
  recoverable: boolean;
}

/** Seconds before the api token expires at which the viewer asks for new tokens (as the SDK does). */
export const REFRESH_MARGIN_S = 120;

/**
 * When to ask for tokens again (ms from now), from the ttls of a session:tokens answer: 120 s
 * before the shorter of the api and navigation tokens expires, or at half the lifetime for
 * tokens that live 4 minutes or less, and never sooner than 1 s.
 */
export function tokenRefreshDelay(t: SessionTokens): number {
  const ttls = [t.api_token_ttl, t.navigation_token_ttl].filter((x): x is number => typeof x === 'number' && x > 0);
  if (ttls.length === 0) return 1000;
  const ttl = Math.min(...ttls);
  const s = ttl > 2 * REFRESH_MARGIN_S ? ttl - REFRESH_MARGIN_S : ttl / 2;
  return Math.max(1000, Math.round(s * 1000));
}

export type TokenOutcome =
  | { kind: 'ok'; apiToken: string; navigationToken: string; state: SessionState }
  | { kind: 'expired'; state: SessionState }
  | { kind: 'interrupted'; state: SessionState };

/** Classifies a session:tokens answer. */
export function readTokens(t: SessionTokens | undefined | null): TokenOutcome {
  const ttl = typeof t?.session_reference_token_ttl === 'number' ? t.session_reference_token_ttl : undefined;
  if (ttl === 0) return { kind: 'expired', state: { sessionTtl: 0, expired: true, interrupted: false, recoverable: false } };
  if (t && typeof t.api_token === 'string' && t.api_token !== '' && typeof t.navigation_token === 'string' && ttl !== undefined) {
    return { kind: 'ok', apiToken: t.api_token, navigationToken: t.navigation_token, state: { sessionTtl: ttl, expired: false, interrupted: false, recoverable: true } };
  }
  // The host could not get tokens (its backend failed): the session may come back.
  return { kind: 'interrupted', state: { sessionTtl: ttl ?? 0, expired: false, interrupted: true, recoverable: true } };
}

type Timer = ReturnType<typeof setTimeout>;

export interface TokenCycleDeps {
  /** Sends session:tokens:request to the host. */
  request(): void;
  /** Reports session:status (and the caller sends session:expired on expiry). */
  status(s: SessionState): void;
  expired(): void;
  setTimer(fn: () => void, ms: number): Timer;
  clearTimer(t: Timer): void;
}

/**
 * The cookieless token cycle: the viewer asks the host (session:tokens:request), the host answers
 * with the action session:tokens. Callers waiting for a token share one request; an answer
 * without tokens retries with backoff (1 s doubling to 60 s) and reports the session as
 * interrupted; session_reference_token_ttl 0 ends the session for good.
 */
export class TokenCycle {
  apiToken = '';
  navigationToken = '';
  isExpired = false;
  private waiters: { resolve: (t: string) => void; reject: (e: Error) => void }[] = [];
  private timer?: Timer;
  private backoff = 1000;
  private asking = false;

  constructor(private deps: TokenCycleDeps) {}

  /**
   * Starts with the api token the page came with (bootstrap), and asks the host for tokens at
   * once anyway, as Looker's frames do: the SDK counts its token lifetimes from that request.
   */
  seed(apiToken: string): void {
    this.apiToken = apiToken;
    this.ask();
  }

  /** Resolves with a fresh api token (a new one when stale is the current one). */
  token(stale?: string): Promise<string> {
    if (this.isExpired) return Promise.reject(new SessionExpired());
    if (this.apiToken && this.apiToken !== stale) return Promise.resolve(this.apiToken);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.ask();
    });
  }

  /** Asks the host for tokens unless a request is already out. */
  ask(): void {
    if (this.isExpired || this.asking) return;
    this.asking = true;
    this.deps.request();
  }

  /** Handles the session:tokens action. */
  receive(payload: unknown): void {
    this.asking = false;
    if (this.isExpired) return;
    const r = readTokens(payload as SessionTokens);
    if (r.kind === 'expired') {
      this.expire();
      return;
    }
    this.deps.status(r.state);
    if (this.timer) this.deps.clearTimer(this.timer);
    if (r.kind === 'interrupted') {
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 60_000);
      this.timer = this.deps.setTimer(() => this.ask(), wait);
      return;
    }
    this.backoff = 1000;
    this.apiToken = r.apiToken;
    this.navigationToken = r.navigationToken;
    this.timer = this.deps.setTimer(() => this.ask(), tokenRefreshDelay(payload as SessionTokens));
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve(r.apiToken);
  }

  /** Ends the session for good (ttl 0, or the API said session_expired). Idempotent. */
  expire(): void {
    if (this.isExpired) return;
    this.isExpired = true;
    this.apiToken = '';
    if (this.timer) this.deps.clearTimer(this.timer);
    this.deps.status({ sessionTtl: 0, expired: true, interrupted: false, recoverable: false });
    this.deps.expired();
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(new SessionExpired());
  }

  stop(): void {
    if (this.timer) this.deps.clearTimer(this.timer);
  }
}

export class SessionExpired extends Error {
  readonly code = 'session_expired';
  constructor() {
    super('The embed session has ended.');
  }
}
