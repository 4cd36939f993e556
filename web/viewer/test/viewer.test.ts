import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiFailure } from '../src/api';
import { csvRecords } from '../src/csv';
import { defaults, normalize } from '../src/filters';
import { formatCell, formatDate, formatNumber, grainOf } from '../src/format';
import { buildPivot } from '../src/pivot';
import { parseTheme, resolveTheme } from '../src/theme';
import { claimsOf, refreshDelay } from '../src/token';
import type { Field, Filter } from '../src/types';

describe('formatNumber', () => {
  it.each([
    [1234567.891, 'number', '1,234,568'],
    [12.345, 'number', '12.35'],
    [0.012345, 'number', '0.0123'],
    [1234567, 'compact', '1.2M'],
    [1234.5, 'currency', '$1,234.50'],
    [0.1234, 'percent', '12.3%'],
    [1234.5, 'integer', '1,235'],
    [1234.5, ',.2f', '1,234.50'],
    [1234.5, '.0f', '1235'],
    [0.256, '.1%', '25.6%'],
    [1234567, '$.3s', '$1.23M'],
    [1234.5, undefined, '1,235'],
    [42, 'nonsense pattern', '42'],
  ])('%s as %s', (v, fmt, want) => {
    expect(formatNumber(v, fmt)).toBe(want);
  });
});

describe('dates', () => {
  it.each([
    ['2025-01-01T00:00:00Z', 'month', 'Jan 2025'],
    ['2025-01-05', 'day', 'Jan 5, 2025'],
    ['2025-01-06T00:00:00Z', 'week', 'Week of Jan 6, 2025'],
    ['2025-04-01', 'quarter', 'Q2 2025'],
    ['2025-01-01T00:00:00Z', 'year', '2025'],
  ] as const)('%s by %s', (v, grain, want) => {
    expect(formatDate(v, grain)).toBe(want);
  });
  it('reads the grain from a bucket expression', () => {
    expect(grainOf('month(ts)')).toBe('month');
    expect(grainOf(' Quarter ( ts )')).toBe('quarter');
    expect(grainOf('sum(amount)')).toBeUndefined();
  });
  it('formats a timestamp cell without a grain in UTC', () => {
    expect(formatCell('2025-12-30T08:15:00Z', { expr: 'max(ts)', label: '', key: 'max_ts' }, 'timestamp')).toBe('Dec 30, 2025, 08:15 UTC');
  });
  it('formats nulls and decimals sent as strings', () => {
    expect(formatCell(null, undefined, 'decimal')).toBe('—');
    expect(formatCell('1234.5', { expr: 'sum(x)', label: '', key: 'k', format: 'currency' }, 'decimal')).toBe('$1,234.50');
  });
});

describe('buildPivot', () => {
  const f = (expr: string, key: string): Field => ({ expr, label: key, key });
  const columns = [
    { name: 'region', type: 'string' as const },
    { name: 'year_ts', type: 'timestamp' as const },
    { name: 'sum_amount', type: 'decimal' as const },
    { name: 'avg_amount', type: 'decimal' as const },
  ];
  const rows = [
    ['West', '2025-01-01T00:00:00Z', 10, 2],
    ['West', '2024-01-01T00:00:00Z', 5, 1],
    ['East', '2024-01-01T00:00:00Z', 7, 3],
  ];
  const p = buildPivot(columns, rows, [f('region', 'region')], [f('year(ts)', 'year_ts')], [f('sum(amount)', 'sum_amount'), f('avg(amount)', 'avg_amount')]);

  it('keeps row order and sorts columns', () => {
    expect(p.rowKeys).toEqual([['West'], ['East']]);
    expect(p.colKeys).toEqual([['2024-01-01T00:00:00Z'], ['2025-01-01T00:00:00Z']]);
  });
  it('places cells and leaves missing ones empty', () => {
    expect(p.cell(0, 1, 0)).toBe(10);
    expect(p.cell(1, 1, 0)).toBeNull();
  });
  it('totals sums but not averages', () => {
    expect(p.rowTotal(0, 0)).toBe(15);
    expect(p.colTotal(0, 0)).toBe(12);
    expect(p.grandTotal(0)).toBe(22);
    expect(p.rowTotal(0, 1)).toBeNull();
    expect(p.grandTotal(1)).toBeNull();
  });
});

describe('filters', () => {
  const filters: Filter[] = [
    { name: 'region', title: 'Region', type: 'multi_select', default: ['East'] },
    { name: 'dept', title: 'Dept', type: 'single_select' },
    { name: 'period', title: 'Period', type: 'date_range' },
    { name: 'amount', title: 'Amount', type: 'numeric_range' },
  ];
  it('normalises values to the API shapes', () => {
    expect(normalize(filters[0], 'East')).toEqual(['East']);
    expect(normalize(filters[0], [])).toBeNull();
    expect(normalize(filters[1], '')).toBeNull();
    expect(normalize(filters[1], ['Sales'])).toBe('Sales');
    expect(normalize(filters[2], { from: '2024-01-01', to: '' })).toEqual({ from: '2024-01-01' });
    expect(normalize(filters[3], { min: '10', max: '' })).toEqual({ min: 10 });
    expect(normalize(filters[3], { min: 'abc' })).toBeNull();
  });
  it('starts from the defaults', () => {
    expect(defaults(filters)).toEqual({ region: ['East'], dept: null, period: null, amount: null });
  });
});

describe('token', () => {
  const jwt = (claims: object) => `x.${btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}.sig`;
  it('decodes exp without verifying', () => {
    expect(claimsOf(jwt({ exp: 200, iat: 100 }))).toEqual({ exp: 200, iat: 100 });
    expect(claimsOf('garbage')).toEqual({});
  });
  it('asks 60 s before exp, or at half of a short lifetime', () => {
    expect(refreshDelay(jwt({ iat: 1000, exp: 1600 }), 1000_000)).toBe(540_000);
    expect(refreshDelay(jwt({ iat: 1000, exp: 1010 }), 1000_000)).toBe(5_000);
    expect(refreshDelay(jwt({ iat: 1000, exp: 1010 }), 1020_000)).toBe(1_000); // already expired: soon, not in a loop
  });
});

describe('theme', () => {
  it('applies safe overrides and rejects CSS injection', () => {
    const t = resolveTheme(parseTheme({ mode: 'dark', colors: { primary: '#ff0000', background: 'url(http://x)' }, font: 'Inter' }));
    expect(t.mode).toBe('dark');
    expect(t.primary).toBe('#ff0000');
    expect(t.palette[0]).toBe('#ff0000');
    expect(t.background).toBe(resolveTheme('dark').background);
    expect(t.font.startsWith('Inter, ')).toBe(true);
    expect(parseTheme('{"mode":"dark"}')).toEqual({ mode: 'dark' });
  });
});

describe('csvRecords', () => {
  it('counts records, not lines', () => {
    expect(csvRecords('a,b\n1,"x\ny"\n2,z\n')).toBe(2);
    expect(csvRecords('a,b\r\n1,2')).toBe(1);
    expect(csvRecords('a,b\n')).toBe(0);
  });
});

describe('Api', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('renews an expired token once and retries with the new one', async () => {
    const seen: string[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      const auth = new Headers(init.headers).get('Authorization')!;
      seen.push(auth);
      if (auth === 'Bearer old') return new Response(JSON.stringify({ error: { code: 'invalid_token', message: 'expired', details: { reason: 'expired' } } }), { status: 401 });
      return new Response(JSON.stringify({ results: {}, duration_ms: 1 }), { status: 200 });
    });
    let token = 'old';
    const api = new Api('http://inlay.test/', 'sales', { current: () => token, renew: async () => (token = 'new') });
    await api.query(['a'], {});
    expect(seen).toEqual(['Bearer old', 'Bearer new']);
  });

  it('gives up after one retry and keeps the stable code', async () => {
    let calls = 0;
    vi.stubGlobal('fetch', async () => {
      calls++;
      return new Response(JSON.stringify({ error: { code: 'invalid_token', message: 'expired', details: { reason: 'expired' } } }), { status: 401 });
    });
    const api = new Api('http://inlay.test', 'sales', { current: () => 't', renew: async () => 't2' });
    const err = await api.dashboard().catch((e) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect(err.error.code).toBe('invalid_token');
    expect(calls).toBe(2);
  });

  it('does not renew for other 401 reasons', async () => {
    const renew = vi.fn(async () => 'x');
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: { code: 'invalid_token', message: 'bad', details: { reason: 'bad_signature' } } }), { status: 401 }));
    const api = new Api('http://inlay.test', 'sales', { current: () => 't', renew });
    await expect(api.dashboard()).rejects.toBeInstanceOf(ApiFailure);
    expect(renew).not.toHaveBeenCalled();
  });
});

describe('Api renewal failure', () => {
  afterEach(() => vi.unstubAllGlobals());
  it('reports a 401 invalid_token when the host gives no new token', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: { code: 'invalid_token', message: 'expired', details: { reason: 'expired' } } }), { status: 401 }));
    const api = new Api('http://inlay.test', 'sales', { current: () => 't', renew: async () => Promise.reject(new Error('Timeout')) });
    const err = await api.query(['a'], {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect(err.status).toBe(401);
    expect(err.error.code).toBe('invalid_token');
  });
});
