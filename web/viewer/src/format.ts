// Number and date formatting for widget values. Formats are the ones the dashboard format names
// (number, compact, currency, percent, integer) or a small d3-style pattern such as ",.2f", "$.3s"
// or ".1%". Dates are formatted in UTC (the API sends UTC), per the time bucket's grain.

import type { Cell, ColumnType, Field } from './types';

const LOCALE = 'en-US';
const cache = new Map<string, Intl.NumberFormat>();

function nf(key: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat(LOCALE, opts);
    cache.set(key, f);
  }
  return f;
}

const named: Record<string, Intl.NumberFormatOptions> = {
  number: { maximumFractionDigits: 2 },
  compact: { notation: 'compact', maximumFractionDigits: 1 },
  currency: { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 },
  currency_whole: { style: 'currency', currency: 'USD', minimumFractionDigits: 0, maximumFractionDigits: 0 },
  currency_compact: { style: 'currency', currency: 'USD', notation: 'compact', maximumFractionDigits: 1 },
  percent: { style: 'percent', maximumFractionDigits: 1 },
  integer: { maximumFractionDigits: 0 },
  small: { maximumFractionDigits: 4 },
};

// [[fill]align][sign][symbol][0][width][,][.precision][~][type]; fill, align, width are ignored.
const d3RE = /^(?:.?[<>=^])?([+\-( ])?([$#])?0?(\d+)?(,)?(?:\.(\d+))?(~)?([a-z%])?$/i;

/** Intl options for a d3-style pattern, or undefined when the pattern is not understood. */
export function patternOptions(pattern: string): Intl.NumberFormatOptions | undefined {
  const m = d3RE.exec(pattern);
  if (!m) return undefined;
  const [, sign, symbol, , comma, precision, trim, type] = m;
  const p = precision === undefined ? undefined : Math.min(20, Number(precision));
  const o: Intl.NumberFormatOptions = { useGrouping: comma === ',' };
  if (sign === '+') o.signDisplay = 'exceptZero';
  if (symbol === '$') {
    o.style = 'currency';
    o.currency = 'USD';
  }
  const digits = (n: number) => {
    o.maximumFractionDigits = n;
    o.minimumFractionDigits = trim ? 0 : n;
  };
  switch (type) {
    case 'f':
    case undefined:
      digits(p ?? (type ? 6 : 2));
      break;
    case 'd':
      digits(0);
      break;
    case '%':
      o.style = 'percent';
      digits(p ?? 0);
      break;
    case 's':
      o.notation = 'compact';
      o.maximumSignificantDigits = Math.max(1, p ?? 3);
      break;
    case 'e':
      o.notation = 'scientific';
      digits(p ?? 2);
      break;
    case 'r':
    case 'g':
      o.maximumSignificantDigits = Math.max(1, p ?? 6);
      break;
    default:
      return undefined;
  }
  return o;
}

/**
 * Formats a number with a named format or d3-style pattern. "number" (the default) drops the
 * decimals of large values (1,234,568), keeps up to 2 from 1 to 1000 (12.35) and up to 4 below.
 */
export function formatNumber(value: number, format?: string): string {
  if (!Number.isFinite(value)) return String(value);
  let key = format || 'number';
  if (key === 'number') {
    const a = Math.abs(value);
    key = a >= 1000 ? 'integer' : a >= 1 || a === 0 ? 'number' : 'small';
  }
  // Cents do not help read $229,402,118: large amounts drop them.
  if (key === 'currency' && Math.abs(value) >= 100_000) key = 'currency_whole';
  const opts = named[key] ?? patternOptions(key) ?? named.number;
  return nf(key, opts).format(value);
}

export type Grain = 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

const grainRE = /^\s*(hour|day|week|month|quarter|year)\s*\(/i;

/** The time grain of a bucket expression such as "month(ts)", or undefined. */
export function grainOf(expr: string | undefined): Grain | undefined {
  const m = expr ? grainRE.exec(expr) : null;
  return m ? (m[1].toLowerCase() as Grain) : undefined;
}

/** Parses an API date ("2025-01-05") or RFC 3339 timestamp; undefined when it is neither. */
export function parseDate(value: string): Date | undefined {
  const s = /^\d{4}-\d{2}-\d{2}$/.test(value) ? value + 'T00:00:00Z' : value;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const dateFormats: Record<string, Intl.DateTimeFormatOptions> = {
  hour: { month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  day: { month: 'short', day: 'numeric', year: 'numeric' },
  month: { month: 'short', year: 'numeric' },
  timestamp: { month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
};

function df(key: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(LOCALE, { ...dateFormats[key], timeZone: 'UTC' });
}
const dfCache = new Map<string, Intl.DateTimeFormat>();
function dateFmt(key: string): Intl.DateTimeFormat {
  let f = dfCache.get(key);
  if (!f) dfCache.set(key, (f = df(key)));
  return f;
}

/**
 * Formats a date or timestamp: month -> "Jan 2025", day -> "Jan 5, 2025", week -> "Week of
 * Jan 6, 2025", quarter -> "Q1 2025", year -> "2025"; without a grain, dates show the day and
 * timestamps the time too.
 */
export function formatDate(value: string, grain?: Grain, type?: ColumnType, zone = true): string {
  const d = parseDate(value);
  if (!d) return value;
  switch (grain) {
    case 'year':
      return String(d.getUTCFullYear());
    case 'quarter':
      return `Q${Math.floor(d.getUTCMonth() / 3) + 1} ${d.getUTCFullYear()}`;
    case 'month':
      return dateFmt('month').format(d);
    case 'week':
      return 'Week of ' + dateFmt('day').format(d);
    case 'day':
      return dateFmt('day').format(d);
    case 'hour':
      return dateFmt('hour').format(d);
  }
  const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  if (type === 'date' || midnight) return dateFmt('day').format(d);
  return dateFmt('timestamp').format(d) + (zone ? ' UTC' : '');
}

export function isNumericType(t: ColumnType | undefined): boolean {
  return t === 'integer' || t === 'float' || t === 'decimal';
}

/** True for identifier fields (order_id, "Order ID"): shown as written, without separators. */
export function isIdField(field: Field | undefined): boolean {
  if (!field || field.format) return false;
  return /(^|_)id$/i.test(field.key) || /\bid\b/i.test(field.label ?? '');
}

/**
 * Formats one cell for display, using the field's format and the column's type. With zone false,
 * timestamps leave out " UTC" (a table says it once, in the column's header).
 */
export function formatCell(value: Cell, field: Field | undefined, type: ColumnType | undefined, zone = true): string {
  if (value === null || value === undefined) return '—';
  if (isIdField(field) && (typeof value === 'number' || isNumericType(type))) return String(value);
  if (typeof value === 'number') {
    const fmt = field?.format || (type === 'integer' ? 'integer' : 'number');
    return formatNumber(value, fmt);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (type === 'timestamp' || type === 'date' || grainOf(field?.expr)) {
    return formatDate(value, grainOf(field?.expr), type, zone);
  }
  if (isNumericType(type) && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return formatNumber(Number(value), field?.format);
  }
  return value;
}

/** A number from a cell (decimals may arrive as strings), or null. */
export function toNumber(value: Cell): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** The first instant after the bucket that starts at start (UTC). */
export function bucketEnd(start: Date, grain: Grain): Date {
  const d = new Date(start.getTime());
  switch (grain) {
    case 'hour':
      d.setUTCHours(d.getUTCHours() + 1);
      break;
    case 'day':
      d.setUTCDate(d.getUTCDate() + 1);
      break;
    case 'week':
      d.setUTCDate(d.getUTCDate() + 7);
      break;
    case 'month':
      d.setUTCMonth(d.getUTCMonth() + 1);
      break;
    case 'quarter':
      d.setUTCMonth(d.getUTCMonth() + 3);
      break;
    case 'year':
      d.setUTCFullYear(d.getUTCFullYear() + 1);
      break;
  }
  return d;
}

/**
 * Whether a time bucket holds only part of its period: the period filter starts after the
 * bucket starts or ends before it ends, or the bucket is not over yet. from and to are the
 * filter's dates (to inclusive, as the filter bar shows it).
 */
export function isPartialBucket(value: string, grain: Grain, range: { from?: string; to?: string }, now: Date): boolean {
  if (grain === 'hour') return false;
  const start = parseDate(value);
  if (!start) return false;
  const end = bucketEnd(start, grain);
  const from = range.from ? parseDate(range.from.slice(0, 10)) : undefined;
  const to = range.to ? parseDate(range.to.slice(0, 10)) : undefined;
  if (from && from > start && from < end) return true;
  if (to) {
    const after = new Date(to.getTime() + 86_400_000); // the day after the inclusive end
    if (after > start && after < end) return true;
  }
  return now >= start && now < end;
}

/**
 * A counter's change against the previous period: "▲ 12.3%" and whether that is good news (by
 * the direction the author declared), or undefined when there is nothing to compare with.
 */
export function comparison(value: number | null, previous: number | null, direction: 'up' | 'down' = 'up'): { text: string; tone: 'good' | 'bad' | 'flat'; label: string } | undefined {
  if (value === null || previous === null) return undefined;
  const delta = value - previous;
  if (delta === 0) return { text: '0%', tone: 'flat', label: 'No change against the previous period' };
  const arrow = delta > 0 ? '▲' : '▼';
  const pct = previous === 0 ? undefined : Math.abs(delta / previous);
  const text = `${arrow} ${pct === undefined ? 'new' : formatNumber(pct, 'percent')}`;
  const good = (delta > 0) === (direction !== 'down');
  const label = `${delta > 0 ? 'Up' : 'Down'} ${pct === undefined ? '' : formatNumber(pct, 'percent') + ' '}against the previous period`;
  return { text, tone: good ? 'good' : 'bad', label };
}
