import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiFailure } from '../src/api';
import {
  REFRESH_MARGIN_S,
  SessionExpired,
  TokenCycle,
  dashboardDetail,
  events,
  filtersFromLooker,
  fromLooker,
  loadTarget,
  lookerTheme,
  parseBootstrap,
  readTokens,
  splitExpression,
  toLooker,
  tokenRefreshDelay,
  urlFilters,
} from '../src/looker';
import type { SessionState } from '../src/looker';
import type { Dashboard, Filter } from '../src/types';

const region: Filter = { name: 'region', title: 'Region', type: 'multi_select', options: ['East', 'West'] };
const dept: Filter = { name: 'department', title: 'Department', type: 'single_select' };
const period: Filter = { name: 'period', title: 'Order Date', type: 'date_range' };
const amount: Filter = { name: 'amount', title: 'Amount', type: 'numeric_range' };
const filters = [region, dept, period, amount];

const dash: Dashboard = {
  id: 'sales',
  title: 'Sales',
  filters,
  widgets: [
    { name: 'revenue', title: 'Revenue', type: 'counter', layout: { x: 0, y: 0, w: 3, h: 2 } },
    { name: 'by_month', title: 'By month', type: 'line', layout: { x: 3, y: 0, w: 9, h: 4 } },
  ],
};
const ctx = { origin: 'https://127.0.0.1:8443', embedDomain: 'https://host.example' };

describe('bootstrap', () => {
  it('reads Looker mode', () => {
    const b = parseBootstrap(
      JSON.stringify({ mode: 'looker', auth: 'cookieless', dashboard_id: 'sales', events: true, embed_domain: 'https://host.example', permissions: ['access_data'], filters: { Region: 'East', Department: ['a,b'] }, theme: 'dark' }),
    );
    expect(b).toEqual({
      mode: 'looker',
      auth: 'cookieless',
      dashboardId: 'sales',
      events: true,
      embedDomain: 'https://host.example',
      permissions: ['access_data'],
      filters: { Region: 'East', Department: 'a^,b' },
      theme: 'dark',
    });
  });
  it('is absent in Inlay mode or when broken', () => {
    expect(parseBootstrap(undefined)).toBeUndefined();
    expect(parseBootstrap('{"mode":"inlay"}')).toBeUndefined();
    expect(parseBootstrap('{not json')).toBeUndefined();
  });
  it('defaults to the cookie session and no events', () => {
    const b = parseBootstrap('{"mode":"looker","dashboard_id":"x"}')!;
    expect(b.auth).toBe('cookie');
    expect(b.events).toBe(false);
  });
});

describe('URL parameters', () => {
  it('keeps filters and drops the protocol parameters', () => {
    expect(urlFilters('?embed_domain=https://h.example&sdk=3&embed_navigation_token=n&Region=East%2CWest&theme=dark')).toEqual({ Region: 'East,West' });
  });
  it('maps withTheme and _theme overrides', () => {
    expect(lookerTheme('dark', null)).toEqual({ mode: 'dark' });
    expect(lookerTheme('Looker', '{"key_color":"#ff0000","background_color":"#000000","font_family":"Georgia"}')).toEqual({
      colors: { primary: '#ff0000', background: '#000000' },
      font: 'Georgia',
    });
    expect(lookerTheme(undefined, 'nope')).toBeUndefined();
  });
});

describe('Looker filter expressions', () => {
  it('splits on unescaped commas', () => {
    expect(splitExpression('East,West')).toEqual(['East', 'West']);
    expect(splitExpression('Smith^, John,Doe')).toEqual(['Smith, John', 'Doe']);
  });
  it.each([
    [region, 'East,West', ['East', 'West']],
    [region, '', null],
    [dept, 'Sales', 'Sales'],
    [period, '2024-01-01 to 2024-07-01', { from: '2024-01-01', to: '2024-07-01' }],
    [period, '2024/01/01 to 2024/07/01', { from: '2024-01-01', to: '2024-07-01' }],
    [period, 'after 2024-01-01', { from: '2024-01-01' }],
    [period, 'before 2024-07-01', { to: '2024-07-01' }],
    [amount, '[10,20]', { min: 10, max: 20 }],
    [amount, '>=10', { min: 10 }],
    [amount, '<=20', { max: 20 }],
    [amount, '>=10 AND <=20', { min: 10, max: 20 }],
  ] as const)('%s: %s', (f, expr, want) => {
    expect(fromLooker(f as Filter, expr)).toEqual(want);
  });
  it('leaves unreadable expressions alone', () => {
    expect(fromLooker(period, 'last 7 days')).toBeUndefined();
    expect(fromLooker(amount, '[a,b]')).toBeUndefined();
  });
  it('round-trips values', () => {
    for (const [f, v] of [
      [region, ['East', 'A,B']],
      [dept, 'Sales'],
      [period, { from: '2024-01-01', to: '2024-07-01' }],
      [amount, { min: 1, max: 2 }],
    ] as const) {
      expect(fromLooker(f as Filter, toLooker(f as Filter, v as any))).toEqual(v);
    }
  });
  it('keys by filter title (or name); unknown keys ignored', () => {
    expect(filtersFromLooker(filters, { Region: 'West', department: 'Ops', Nope: 'x' })).toEqual({ region: ['West'], department: 'Ops' });
  });
});

describe('event payloads', () => {
  const values = { region: ['East'], department: null, period: null, amount: null };
  const detail = dashboardDetail(dash, values, ctx);

  it('dashboard detail has Looker fields', () => {
    expect(detail).toMatchObject({
      id: 'sales',
      title: 'Sales',
      canEdit: false,
      dashboard_filters: { Region: 'East', Department: '', 'Order Date': '', Amount: '' },
    });
    expect(detail.url).toBe('/embed/dashboards/sales?Region=East&Department=&Order+Date=&Amount=&embed_domain=https%3A%2F%2Fhost.example&sdk=3');
    expect(detail.absoluteUrl).toBe(`https://127.0.0.1:8443${detail.url}`);
    expect(Object.keys(detail.options.elements)).toEqual(['revenue', 'by_month']);
    expect(detail.options.elements.by_month).toEqual({ title: 'By month', title_hidden: false, vis_config: { type: 'line' } });
    expect(detail.options.layouts[0].dashboard_layout_components[1]).toMatchObject({ dashboard_element_id: 'by_month', row: 0, column: 3, width: 9, height: 4 });
  });

  it('run:complete carries status and tileStatuses', () => {
    const [rev, byMonth] = dash.widgets!;
    const ok = events.runComplete(detail, [{ widget: rev }, { widget: byMonth }]);
    expect(ok).toEqual({ type: 'dashboard:run:complete', dashboard: detail, status: 'complete', tileStatuses: [{ tileId: 'revenue', status: 'complete' }, { tileId: 'by_month', status: 'complete' }] });
    const bad = events.runComplete(detail, [{ widget: rev, error: { code: 'query_timeout', message: 'slow' } }, { widget: byMonth }]);
    expect(bad.status).toBe('error');
    expect(bad.tileStatuses[0]).toEqual({
      tileId: 'revenue',
      status: 'error',
      errors: [{ message: 'slow', message_details: null, params: null, error_pos: null, level: 'error', fatal: true, sql_error_loc: null, code: 'query_timeout' }],
    });
    expect(events.runComplete(detail, [{ widget: rev }], true).status).toBe('stopped');
  });

  it('tile events carry dashboard, tile {id, title, listen}, status', () => {
    const w = dash.widgets![0];
    expect(events.tileStart(detail, w, filters)).toEqual({
      type: 'dashboard:tile:start',
      dashboard: detail,
      tile: { id: 'revenue', title: 'Revenue', listen: { Region: 'region', Department: 'department', 'Order Date': 'period', Amount: 'amount' } },
    });
    expect(events.tileComplete(detail, { widget: w, truncated: true }, filters)).toMatchObject({ type: 'dashboard:tile:complete', status: 'complete', truncated: true, tile: { id: 'revenue' } });
    expect(events.tileDownload(detail, w, filters)).toMatchObject({ type: 'dashboard:tile:download', fileFormat: 'csv', tile: { id: 'revenue', title: 'Revenue' } });
  });

  it('page and env events', () => {
    expect(events.pageChanged(detail.url, ctx)).toEqual({
      type: 'page:changed',
      page: { type: 'dashboards', url: detail.url, absoluteUrl: detail.absoluteUrl, lookerVersion: '25.0.0' },
    });
    // The SDK takes the page type from the url's second path segment.
    expect(events.pageChanged(detail.url, ctx).page.url.split('?')[0].split('/')[2]).toBe('dashboards');
    expect(events.pageProperties(812)).toEqual({ type: 'page:properties:changed', height: 812 });
    expect(events.dialog(true, 'tile_fullscreen')).toEqual({ type: 'env:client:dialog', open: true, placement: 'cover', dialogType: 'tile_fullscreen' });
    expect(events.sessionStatus({ sessionTtl: 30, expired: false, interrupted: false, recoverable: true })).toEqual({
      type: 'session:status',
      session_ttl: 30,
      expired: false,
      interrupted: false,
      recoverable: true,
    });
  });
});

describe('navigation targets', () => {
  it('reads page:load urls and dashboard:load ids', () => {
    expect(loadTarget({ url: '/embed/dashboards/ops?embed_domain=https://h&sdk=3&Region=West', pushHistory: false })).toEqual({
      id: 'ops',
      search: '?embed_domain=https://h&sdk=3&Region=West',
    });
    expect(loadTarget({ id: 7 })).toEqual({ id: '7', search: '' });
    expect(loadTarget({ url: '/embed/looks/4' })).toBeUndefined();
    expect(loadTarget({ url: 'https://evil.example/embed/dashboards/x' })).toEqual({ id: 'x', search: '' });
    expect(loadTarget(null)).toBeUndefined();
  });
});

describe('cookieless tokens', () => {
  const good = { api_token: 'a1', api_token_ttl: 600, navigation_token: 'n1', navigation_token_ttl: 600, session_reference_token_ttl: 3000 };

  it('classifies answers', () => {
    expect(readTokens(good)).toMatchObject({ kind: 'ok', apiToken: 'a1', state: { sessionTtl: 3000, expired: false } });
    expect(readTokens({ ...good, session_reference_token_ttl: 0, api_token: 'session expired' })).toMatchObject({ kind: 'expired', state: { expired: true, sessionTtl: 0 } });
    expect(readTokens({ api_token: undefined, session_reference_token_ttl: undefined })).toMatchObject({ kind: 'interrupted', state: { interrupted: true, recoverable: true } });
  });

  it('refreshes 120 s before the api token expires', () => {
    expect(tokenRefreshDelay(good)).toBe((600 - REFRESH_MARGIN_S) * 1000);
    expect(tokenRefreshDelay({ ...good, api_token_ttl: 60 })).toBe(30_000);
    expect(tokenRefreshDelay({ ...good, api_token_ttl: 1 })).toBe(1000);
  });

  function cycle() {
    const log: string[] = [];
    const statuses: SessionState[] = [];
    const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
    const c = new TokenCycle({
      request: () => log.push('request'),
      status: (s) => statuses.push(s),
      expired: () => log.push('expired'),
      setTimer: (fn, ms) => {
        const t = { fn, ms, cleared: false };
        timers.push(t);
        return t as any;
      },
      clearTimer: (t: any) => (t.cleared = true),
    });
    return { c, log, statuses, timers };
  }

  it('shares one request among waiters and schedules the next', async () => {
    const { c, log, timers } = cycle();
    const p1 = c.token();
    const p2 = c.token();
    expect(log).toEqual(['request']);
    c.receive(good);
    expect(await p1).toBe('a1');
    expect(await p2).toBe('a1');
    expect(timers.at(-1)!.ms).toBe(480_000);
    timers.at(-1)!.fn();
    expect(log).toEqual(['request', 'request']);
    // A caller whose token was refused asks again even if another answer is not in yet.
    const p3 = c.token('a1');
    c.receive({ ...good, api_token: 'a2' });
    expect(await p3).toBe('a2');
  });

  it('retries with backoff when the host has no tokens', () => {
    const { c, log, statuses, timers } = cycle();
    void c.token();
    c.receive({ api_token: undefined });
    expect(statuses.at(-1)).toMatchObject({ interrupted: true, expired: false });
    expect(timers.at(-1)!.ms).toBe(1000);
    timers.at(-1)!.fn();
    c.receive({ api_token: undefined });
    expect(timers.at(-1)!.ms).toBe(2000);
    expect(log.filter((x) => x === 'request').length).toBe(2);
  });

  it('an ended session (ttl 0) expires once and rejects waiters', async () => {
    const { c, log, statuses } = cycle();
    const p = c.token();
    c.receive({ api_token: 'session expired', api_token_ttl: 240, navigation_token: 'session expired', navigation_token_ttl: 240, session_reference_token_ttl: 0 });
    await expect(p).rejects.toBeInstanceOf(SessionExpired);
    expect(statuses).toEqual([{ sessionTtl: 0, expired: true, interrupted: false, recoverable: false }]);
    expect(log).toEqual(['request', 'expired']);
    c.expire();
    expect(log).toEqual(['request', 'expired']);
    await expect(c.token()).rejects.toBeInstanceOf(SessionExpired);
  });
});

describe('bootstrap api token', () => {
  it('is read and used before the host answers', async () => {
    const b = parseBootstrap('{"mode":"looker","auth":"cookieless","dashboard_id":"s","session_ttl":3599,"api_token":"boot","api_token_ttl":600}')!;
    expect(b).toMatchObject({ sessionTtl: 3599, apiToken: 'boot', apiTokenTtl: 600 });
    const asked: string[] = [];
    const c = new TokenCycle({ request: () => asked.push('r'), status: () => undefined, expired: () => undefined, setTimer: () => 0 as any, clearTimer: () => undefined });
    c.seed(b.apiToken!);
    expect(asked).toEqual(['r']);
    expect(await c.token()).toBe('boot');
  });
});

describe('embed API calls in Looker mode', () => {
  afterEach(() => vi.unstubAllGlobals());
  const body = JSON.stringify({ results: {}, duration_ms: 1 });
  const err = (code: string) => new Response(JSON.stringify({ error: { code, message: code } }), { status: 401 });

  it('signed: the session cookie, no Authorization header, and a refused session ends it', async () => {
    const seen: RequestInit[] = [];
    vi.stubGlobal('fetch', async (_u: string, init: RequestInit) => (seen.push(init), seen.length === 1 ? new Response(body) : err('session_expired')));
    const refused = vi.fn();
    const api = new Api('https://inlay.test', 'sales', { current: () => '', renew: () => Promise.reject(new SessionExpired()), renewable: () => false, refused }, { credentials: 'same-origin' });
    await api.query(['a'], {});
    expect(seen[0].credentials).toBe('same-origin');
    expect(new Headers(seen[0].headers).has('Authorization')).toBe(false);
    await expect(api.query(['a'], {})).rejects.toBeInstanceOf(ApiFailure);
    expect(refused).toHaveBeenCalledWith(expect.objectContaining({ code: 'session_expired' }));
  });

  it('cookieless: a refused api token is renewed with the token that failed, then retried', async () => {
    const auth: string[] = [];
    vi.stubGlobal('fetch', async (_u: string, init: RequestInit) => {
      const a = new Headers(init.headers).get('Authorization')!;
      auth.push(a);
      return a === 'Bearer api1' ? err('invalid_token') : new Response(body);
    });
    let token = 'api1';
    const renew = vi.fn(async (used?: string) => (expect(used).toBe('api1'), (token = 'api2')));
    const api = new Api('https://inlay.test', 'sales', { current: () => token, renew, renewable: (e) => e.code !== 'session_expired' }, { credentials: 'omit' });
    await api.query(['a'], {});
    expect(auth).toEqual(['Bearer api1', 'Bearer api2']);
    expect(renew).toHaveBeenCalledTimes(1);
  });

  it('cookieless: session_expired is not renewed', async () => {
    vi.stubGlobal('fetch', async () => err('session_expired'));
    const renew = vi.fn(async () => 'x');
    const refused = vi.fn();
    const api = new Api('https://inlay.test', 'sales', { current: () => 'api1', renew, renewable: (e) => e.code !== 'session_expired', refused });
    await expect(api.dashboard()).rejects.toBeInstanceOf(ApiFailure);
    expect(renew).not.toHaveBeenCalled();
    expect(refused).toHaveBeenCalledTimes(1);
  });
});

describe('the page an ended Looker session shows', () => {
  it('says the session ended and offers a reload', async () => {
    const { causeOf } = await import('../src/banner');
    expect(causeOf(401, { code: 'session_expired', message: 'ended' })).toMatchObject({ kind: 'session', title: 'Your session has ended', action: 'reload' });
  });
});
