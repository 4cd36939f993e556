// One widget tile: its card, loading skeleton, error and empty states, and the rendering of each
// widget type (charts through ECharts, counters, tables and pivots as HTML).

import type { ECharts } from 'echarts/core';
import { charts } from './lazy-charts';
import { h, icon, icons } from './dom';
import { comparison, formatCell, formatNumber, grainOf, isNumericType, toNumber } from './format';
import { buildPivot, totalOf } from './pivot';
import type { Theme } from './theme';
import type { ApiError, Cell, Column, Field, Widget, WidgetResult } from './types';

/** Viewer-facing text for the API's stable error codes; the server's message is the fallback. */
const friendly: Record<string, string> = {
  query_timeout: 'The query took too long. Try narrowing the filters.',
  query_failed: 'This widget’s query failed. The dashboard’s author needs to fix it.',
  datasource_unavailable: 'The data source cannot be reached right now. Try again in a moment.',
  rls_value_missing: 'Your access does not include the data this widget needs.',
  forbidden: 'You do not have access to this widget.',
  invalid_token: 'Your session has ended. Reload the page to continue.',
  invalid_filter: 'One of the filter values is not valid.',
  unknown_widget: 'This widget no longer exists on the dashboard.',
  network_error: 'Inlay could not be reached. Check your connection.',
  internal: 'Something went wrong on the server.',
};

export function describeError(e: ApiError): string {
  return friendly[e.code] ?? e.message ?? 'Something went wrong.';
}

export interface TileActions {
  canDownload: boolean;
  download(tile: Tile, format?: 'csv' | 'xlsx'): void;
  fullscreen(tile: Tile): void;
  /** Runs this tile's widget again (its error state's Retry, a table's new page or sort). */
  retry(tile: Tile): void;
  /** A click on a bar, slice, point or row: filter the dashboard by that value, if a filter fits. */
  crossFilter?(tile: Tile, field: Field, value: Cell): boolean;
  /** Whether a filter takes values of this field (the cursor and hint say the click filters). */
  canCrossFilter?(field: Field): boolean;
}

/** Rows per page of a table (the server pages them). */
export const PAGE_SIZE = 25;

/** What a table asks the query API for: a page, and the column it is sorted by. */
export interface PageRequest {
  offset: number;
  limit: number;
  sort?: string;
  desc?: boolean;
}

/** idle: on a page (tab) not shown, not run yet. */
export type TileStatus = 'loading' | 'complete' | 'error' | 'idle';

export class Tile {
  readonly el: HTMLElement;
  private body: HTMLElement;
  private chart?: ECharts;
  private result?: WidgetResult;
  private theme?: Theme;
  private sort?: { col: number; desc: boolean };
  private offset = 0;
  /** A chart shown as its data table instead (the accessible alternative). */
  private asTable = false;
  private tableToggle?: HTMLButtonElement;
  private meta: HTMLElement;
  status: TileStatus = 'loading';
  error?: ApiError;
  private resizeObserver?: ResizeObserver;

  constructor(
    readonly widget: Widget,
    private actions: TileActions,
  ) {
    const w = widget;
    const L = w.layout ?? { x: 0, y: 0, w: 4, h: 3 };
    const title = w.title || w.name;
    this.body = h('div', { class: `tile-body tile-body--${w.type}` });
    const buttons = h('div', { class: 'tile-actions' });
    const isText = w.type === 'text';
    const isChart = ['bar', 'line', 'area', 'pie'].includes(w.type);
    if (isChart) {
      this.tableToggle = h(
        'button',
        { type: 'button', class: 'icon-btn', 'aria-pressed': 'false', 'aria-label': `Show ${title} as a table`, title: 'Show as table', 'data-action': 'as-table', onclick: () => this.toggleTable() },
        icon(icons.table),
      );
      buttons.append(this.tableToggle);
      buttons.append(
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Download ${title} as PNG`, title: 'Download PNG', 'data-action': 'png', onclick: () => this.downloadPNG() }, icon(icons.image)),
      );
    }
    if (actions.canDownload && !isText) {
      buttons.append(
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Download ${title} as CSV`, title: 'Download CSV', 'data-action': 'download', onclick: () => actions.download(this) }, icon(icons.download)),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Download ${title} as Excel`, title: 'Download Excel (.xlsx)', 'data-action': 'download-xlsx', onclick: () => actions.download(this, 'xlsx') }, icon(icons.sheet)),
      );
    }
    if (!isText) buttons.append(
      h('button', { type: 'button', class: 'icon-btn tile-expand', 'aria-label': `Show ${title} full screen`, title: 'Full screen', 'data-action': 'fullscreen', onclick: () => actions.fullscreen(this) }, icon(icons.expand)),
      h('button', { type: 'button', class: 'icon-btn tile-close', 'aria-label': 'Exit full screen', title: 'Exit full screen (Esc)', onclick: () => actions.fullscreen(this) }, icon(icons.close)),
    );
    this.el = h(
      'section',
      {
        class: `tile tile--${w.type}`,
        'data-widget': w.name,
        'data-status': 'loading',
        'aria-label': title,
        style: `--x:${L.x + 1};--y:${L.y + 1};--w:${Math.max(1, Math.min(12, L.w))};--h:${Math.max(1, L.h)}`,
      },
      h('header', { class: 'tile-head' }, h('h2', { class: 'tile-title', title }, title), (this.meta = h('span', { class: 'tile-meta', hidden: true })), buttons),
      this.body,
    );
    if (isText) {
      // Sanitized on the server when the dashboard loaded (goldmark + bluemonday): no query.
      this.body.innerHTML = w.html ?? '';
      this.setStatus('complete');
      return;
    }
    this.setLoading();
  }

  get name(): string {
    return this.widget.name;
  }

  get title(): string {
    return this.widget.title || this.widget.name;
  }

  /** The period filter's range (set by the viewer), to mark partial time buckets. */
  periodRange: () => { from?: string; to?: string } = () => ({});

  /** A table's page request (undefined for other widgets). */
  pageRequest(): PageRequest | undefined {
    if (this.widget.type !== 'table') return undefined;
    const key = this.sort ? this.sortKey(this.sort.col) : undefined;
    return { offset: this.offset, limit: PAGE_SIZE, ...(key ? { sort: key, desc: this.sort!.desc } : {}) };
  }

  /** Back to the first page (filters changed); the sort stays. */
  firstPage(): void {
    this.offset = 0;
  }

  private sortKey(col: number): string | undefined {
    const f = this.widget.columns?.[col];
    return f?.key ?? this.result?.columns?.[col]?.name;
  }

  /** The result on screen (undefined while loading for the first time or in error). */
  get data(): WidgetResult | undefined {
    return this.error ? undefined : this.result;
  }

  get rowCount(): number {
    return this.result?.rows?.length ?? 0;
  }

  private setStatus(s: TileStatus) {
    this.status = s;
    delete this.el.dataset.stale;
    this.el.dataset.status = s;
    this.el.setAttribute('aria-busy', String(s === 'loading'));
  }

  /** Shows the skeleton only when there is nothing to show yet; a re-run keeps the old data dimmed. */
  setLoading(): void {
    if (this.widget.type === 'text') return;
    this.setStatus('loading');
    if (this.result && !this.error) return;
    this.disposeChart();
    this.body.replaceChildren(skeleton(this.widget.type));
  }

  /** A tile on a page not shown that waited for data: it runs when its page is shown. */
  setIdle(): void {
    if (this.status === 'loading') this.setStatus('idle');
  }

  setError(e: ApiError): void {
    this.error = e;
    this.result = undefined;
    this.setStatus('error');
    this.disposeChart();
    this.body.replaceChildren(
      h(
        'div',
        { class: 'state state--error', role: 'alert' },
        h('span', { class: 'state-icon' }, icon(icons.alert)),
        h('p', { class: 'state-title' }, 'Couldn’t load this widget'),
        h('p', { class: 'state-text' }, describeError(e)),
        h('button', { type: 'button', class: 'btn btn--small tile-retry', 'aria-label': `Retry ${this.title}`, onclick: () => this.actions.retry(this) }, 'Retry'),
        h('code', { class: 'state-code' }, e.code),
      ),
    );
  }

  /**
   * The run failed as a whole (the dashboard's banner says why): a tile with data keeps it,
   * marked stale; a tile without data says it is not loaded, without repeating the cause.
   */
  setUnavailable(): void {
    if (this.result && !this.error) {
      this.setStatus('complete');
      this.el.dataset.stale = 'true';
      return;
    }
    this.setStatus('error');
    this.disposeChart();
    this.body.replaceChildren(h('div', { class: 'state state--muted' }, h('p', { class: 'state-text' }, 'Not loaded')));
  }

  setResult(res: WidgetResult, theme: Theme): void {
    this.error = undefined;
    this.result = res;
    this.theme = theme;
    this.setStatus('complete'); // the table's sort stays: a refresh or a filter change keeps it
    // A hint on hover: the answer came from Inlay's cache.
    this.meta.hidden = !res.cached;
    this.meta.textContent = res.cached ? 'cached' : '';
    this.meta.title = res.cached ? 'This tile’s data came from the cache' : '';
    this.render();
  }

  /** Re-colours the tile for a new theme, without fetching anything. */
  retheme(theme: Theme): void {
    this.theme = theme;
    if (this.result && this.chart) this.render();
  }

  resize(): void {
    this.chart?.resize();
  }

  private render(): void {
    const res = this.result!;
    const t = this.theme!;
    const w = this.widget;
    if (!res.rows || res.rows.length === 0) {
      this.disposeChart();
      this.body.replaceChildren(
        h('div', { class: 'state state--empty' }, h('span', { class: 'state-icon' }, icon(icons.inbox)), h('p', { class: 'state-text' }, 'No data for these filters')),
      );
      return;
    }
    if (this.asTable && ['bar', 'line', 'area', 'pie'].includes(w.type)) {
      this.disposeChart();
      this.body.replaceChildren(this.table(res, chartFields(w)));
      return;
    }
    switch (w.type) {
      case 'counter':
        this.disposeChart();
        this.body.replaceChildren(counter(w, res));
        return;
      case 'table':
        this.disposeChart();
        this.body.replaceChildren(this.table(res));
        return;
      case 'pivot':
        this.disposeChart();
        this.body.replaceChildren(pivot(w, res));
        return;
      case 'pie':
      case 'bar':
      case 'line':
      case 'area': {
        const { PIE_NARROW, cartesianOption, echarts, pieOption } = charts();
        const width = this.body.clientWidth;
        const host = this.body;
        const option = w.type === 'pie' ? pieOption(w, res, t, width, host) : cartesianOption(w, res, t, width, host, { range: this.periodRange(), now: new Date() });
        if (!option) {
          this.disposeChart();
          this.body.replaceChildren(h('div', { class: 'state state--empty' }, h('p', { class: 'state-text' }, 'No data for these filters')));
          return;
        }
        if (!this.chart) {
          const host = h('div', { class: 'chart', role: 'img', 'aria-label': `${this.title} chart` });
          this.body.replaceChildren(host);
          this.chart = echarts.init(host, undefined, { renderer: 'canvas' });
          this.chart.on('click', (p) => this.chartClick(p.data as { x?: Cell; s?: Cell } | undefined));
          let narrow = width < PIE_NARROW;
          let lastWidth = width;
          this.resizeObserver = new ResizeObserver(() => {
            this.chart?.resize();
            // A pie's legend moves when the tile crosses the narrow width, and a wrapping legend
            // may take another row: rebuild the options.
            const nowWidth = this.body.clientWidth;
            const nowNarrow = nowWidth < PIE_NARROW;
            if (!this.result) return;
            if (w.type === 'pie' ? nowNarrow !== narrow : Math.abs(nowWidth - lastWidth) > 24) {
              narrow = nowNarrow;
              lastWidth = nowWidth;
              this.render();
            }
          });
          this.resizeObserver.observe(host);
        }
        this.chart.setOption(option, { notMerge: true });
        return;
      }
      default:
        this.body.replaceChildren(h('div', { class: 'state' }, h('p', { class: 'state-text' }, `Unsupported widget type “${String(w.type)}”`)));
    }
  }

  private disposeChart(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
    this.chart?.dispose();
    this.chart = undefined;
  }

  /** A chart click filters by the series value when a filter takes it, else by the category. */
  private chartClick(d: { x?: Cell; s?: Cell } | undefined): void {
    if (!d || !this.actions.crossFilter) return;
    const w = this.widget;
    const cat = w.type === 'pie' ? w.label : w.x;
    if (w.series && d.s !== undefined && this.actions.canCrossFilter?.(w.series) && this.actions.crossFilter(this, w.series, d.s)) return;
    if (cat && d.x !== undefined) this.actions.crossFilter(this, cat, d.x);
  }

  /** Switches a chart to its data table and back (keyboard and screen reader friendly). */
  private toggleTable(): void {
    this.asTable = !this.asTable;
    this.tableToggle?.setAttribute('aria-pressed', String(this.asTable));
    this.tableToggle?.setAttribute('title', this.asTable ? 'Show as chart' : 'Show as table');
    this.el.classList.toggle('tile--as-table', this.asTable);
    if (this.result && !this.error) this.render();
  }

  /** Saves the chart as a PNG (what is on screen, at twice the resolution). */
  private downloadPNG(): void {
    if (!this.chart || !this.theme) return;
    const url = this.chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: this.theme.surface });
    const a = h('a', { href: url, download: `${this.widget.name}.png`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  }

  private table(res: WidgetResult, given?: Field[]): HTMLElement {
    const columns = res.columns ?? [];
    const fields = given?.length ? given : this.widget.columns?.length ? this.widget.columns : columns.map((c) => ({ expr: c.name, label: c.name, key: c.name }) as Field);
    const idx = fields.map((f) => columns.findIndex((c) => c.name === f.key));
    let rows = res.rows ?? [];
    // Paged results come sorted from the server; others are sorted here.
    const paged = res.total_rows !== undefined;
    if (this.sort && !paged) {
      const { col, desc } = this.sort;
      const i = idx[col];
      rows = [...rows].sort((a, b) => compare(a[i], b[i]) * (desc ? -1 : 1));
    }
    const numeric = idx.map((i) => isNumericType(columns[i]?.type));
    const head = h(
      'tr',
      {},
      fields.map((f, c) => {
        const active = this.sort?.col === c;
        const dir = active ? (this.sort!.desc ? 'descending' : 'ascending') : 'none';
        return h(
          'th',
          { scope: 'col', class: numeric[c] ? 'num' : undefined, 'aria-sort': dir },
          h(
            'button',
            {
              type: 'button',
              class: 'th-btn',
              onclick: () => {
                this.sort = active ? { col: c, desc: !this.sort!.desc } : { col: c, desc: numeric[c] };
                if (paged) {
                  this.offset = 0;
                  this.actions.retry(this);
                } else {
                  this.render();
                }
              },
            },
            (f.label || f.key) + (hasZone(columns[idx[c]]?.type, f) ? ' (UTC)' : ''),
            h('span', { class: 'sort-ind' }, active ? icon(this.sort!.desc ? icons.sortDown : icons.sortUp) : null),
          ),
        );
      }),
    );
    // A row filters the dashboard by its first column, when a filter takes that column: the
    // first cell is then a button (keyboard reachable).
    const crossField = fields[0] && this.actions.canCrossFilter?.(fields[0]) ? fields[0] : undefined;
    const body = rows.map((r) =>
      h(
        'tr',
        {},
        fields.map((f, c) => {
          const text = formatCell(r[idx[c]], f, columns[idx[c]]?.type, false);
          const cell =
            c === 0 && crossField
              ? h('button', { type: 'button', class: 'cell-filter', title: `Filter by ${text}`, onclick: () => this.actions.crossFilter?.(this, crossField, r[idx[0]]) }, text)
              : text;
          return h('td', { class: numeric[c] ? 'num' : undefined }, cell);
        }),
      ),
    );
    const wrap = h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `${this.title}, table` }, h('table', { class: 'grid-table' }, h('thead', {}, head), h('tbody', {}, body)));
    if (paged) return h('div', { class: 'table-outer' }, scrollShadows(wrap), this.pager(res, rows.length));
    const n = formatNumber(rows.length, 'integer');
    const note = res.truncated ? `Showing the first ${n} rows` : `${n} ${rows.length === 1 ? 'row' : 'rows'}`;
    return h('div', { class: 'table-outer' }, scrollShadows(wrap), h('p', { class: 'table-note' }, note));
  }

  /** "26–50 of 100 rows" with previous and next page buttons. */
  private pager(res: WidgetResult, shown: number): HTMLElement {
    const total = res.total_rows ?? shown;
    const offset = res.offset ?? this.offset;
    const int = (x: number) => formatNumber(x, 'integer');
    const rowsWord = total === 1 ? 'row' : 'rows';
    const text =
      total === 0
        ? 'No rows'
        : offset === 0 && shown >= total
          ? `${int(total)} ${rowsWord}`
          : `${int(offset + 1)}–${int(offset + shown)} of ${int(total)}${res.truncated ? '+' : ''} ${rowsWord}`;
    const go = (o: number) => {
      this.offset = Math.max(0, o);
      this.actions.retry(this);
    };
    const prev = h('button', { type: 'button', class: 'icon-btn pager-btn', 'aria-label': 'Previous page', 'data-action': 'prev-page', disabled: offset === 0, onclick: () => go(offset - PAGE_SIZE) }, '‹');
    const next = h('button', { type: 'button', class: 'icon-btn pager-btn', 'aria-label': 'Next page', 'data-action': 'next-page', disabled: offset + shown >= total, onclick: () => go(offset + PAGE_SIZE) }, '›');
    return h('div', { class: 'table-note pager' }, h('span', { class: 'pager-text', 'aria-live': 'polite' }, text), total > shown ? h('span', { class: 'pager-btns' }, prev, next) : null);
  }
}

/** The fields a chart shows, as table columns: category, series, then values. */
function chartFields(w: Widget): Field[] {
  const out: Field[] = [];
  for (const f of [w.x, w.label, w.series, ...(w.y ?? []), w.value]) {
    if (f && !out.some((o) => o.key === f.key)) out.push(f);
  }
  return out;
}

/** Timestamps (not dates, not time buckets) say their zone once, in the header. */
function hasZone(type: string | undefined, f: Field): boolean {
  return type === 'timestamp' && !grainOf(f.expr);
}

/**
 * Wraps a scrolling table so that shadows show on the sides where more rows or columns hide.
 */
function scrollShadows(wrap: HTMLElement): HTMLElement {
  const box = h('div', { class: 'scroll-box' }, wrap);
  const update = () => {
    const { scrollLeft, scrollTop, scrollWidth, scrollHeight, clientWidth, clientHeight } = wrap;
    box.classList.toggle('more-left', scrollLeft > 1);
    box.classList.toggle('more-right', scrollLeft + clientWidth < scrollWidth - 1);
    box.classList.toggle('more-below', scrollTop + clientHeight < scrollHeight - 1);
  };
  wrap.addEventListener('scroll', update, { passive: true });
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(update).observe(wrap);
  return box;
}

function compare(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const na = toNumber(a);
  const nb = toNumber(b);
  if (typeof a !== 'boolean' && na !== null && nb !== null && (typeof a === 'number' || typeof b === 'number')) return na - nb;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

function skeleton(type: string): HTMLElement {
  const bars = type === 'counter' ? ['w40 tall', 'w25'] : type === 'table' || type === 'pivot' ? ['w100', 'w90', 'w95', 'w85', 'w90'] : ['block'];
  return h('div', { class: `skeleton skeleton--${type}`, 'aria-hidden': 'true' }, bars.map((c) => h('div', { class: `sk ${c}` })));
}

function counter(w: Widget, res: WidgetResult): HTMLElement {
  const field = w.value;
  const columns = res.columns ?? [];
  const i = Math.max(0, field ? columns.findIndex((c) => c.name === field.key) : 0);
  const v = res.rows?.[0]?.[i] ?? null;
  const label = field?.label && field.label !== w.title ? field.label : '';
  const full = formatCell(v, field, columns[i]?.type);
  const value = h('div', { class: 'counter-value', style: `--len:${Math.max(4, full.length)}`, title: full }, full);
  // A number is never cut off: where the full value does not fit the tile, it shows compact
  // ($57.4M), with the full value in the tooltip.
  const n = toNumber(v);
  const short = n === null ? full : formatNumber(n, compactFormat(field?.format));
  if (short !== full && typeof ResizeObserver !== 'undefined') {
    new ResizeObserver(() => {
      value.textContent = full;
      if (value.scrollWidth > value.clientWidth) value.textContent = short;
    }).observe(value);
  }
  // Against the previous period, when the author asked for it and a period is selected.
  const prev = res.previous?.rows?.[0]?.[i];
  const cmp = w.compare ? comparison(n, prev === undefined ? null : toNumber(prev), w.direction) : undefined;
  const change = cmp
    ? h(
        'div',
        { class: `counter-change counter-change--${cmp.tone}`, title: `Previous period: ${formatCell(prev ?? null, field, columns[i]?.type)}` },
        h('span', { 'aria-label': cmp.label }, cmp.text),
        h('span', { class: 'counter-change-vs' }, ' vs previous period'),
      )
    : null;
  return h('div', { class: 'counter' }, value, label ? h('div', { class: 'counter-label' }, label) : null, change, sparkline(w, res, full));
}

/** A counter's sparkline: its value by the sparkline's x as a small line (nil under two points). */
export function sparkline(w: Widget, res: WidgetResult, current: string): SVGSVGElement | null {
  const rows = res.sparkline?.rows ?? [];
  const values = rows.map((r) => toNumber(r[1] ?? null)).filter((v): v is number => v !== null);
  if (values.length < 2 || !w.sparkline) return null;
  const min = Math.min(...values);
  const span = Math.max(...values) - min || 1;
  const W = 100;
  const H = 24;
  const points = values.map((v, i) => `${((i / (values.length - 1)) * W).toFixed(2)},${(H - 1 - ((v - min) / span) * (H - 2)).toFixed(2)}`).join(' ');
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'counter-spark');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const by = w.sparkline.x.label || w.sparkline.x.expr;
  svg.setAttribute('aria-label', `${w.value?.label || w.title || w.name} by ${by}: ${values.length} points, now ${current}`);
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('points', points);
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'currentColor');
  line.setAttribute('stroke-width', '1.5');
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(line);
  return svg;
}

/** The compact form of a counter's format, for tiles too narrow for the full value. */
function compactFormat(format: string | undefined): string {
  return format === 'currency' ? 'currency_compact' : format === 'percent' ? 'percent' : 'compact';
}

function pivot(w: Widget, res: WidgetResult): HTMLElement {
  const columns: Column[] = res.columns ?? [];
  const rowFields = w.rows ?? [];
  const colFields = w.pivot_columns ?? [];
  const valueFields = w.values ?? [];
  const p = buildPivot(columns, res.rows ?? [], rowFields, colFields, valueFields);
  const typeOf = (f: Field) => columns.find((c) => c.name === f.key)?.type;
  const nv = valueFields.length;
  const hasTotals = valueFields.some((f) => totalOf(f.expr));
  const colLabel = (ck: Cell[]) => ck.map((v, i) => formatCell(v, colFields[i], typeOf(colFields[i]))).join(' · ');
  const fmtV = (x: number | null, v: number) => (x === null ? '' : formatNumber(x, valueFields[v].format || (typeOf(valueFields[v]) === 'integer' ? 'integer' : 'number')));

  const headRows: HTMLElement[] = [];
  const top = h(
    'tr',
    {},
    rowFields.map((f) => h('th', { scope: 'col', rowspan: nv > 1 ? 2 : undefined, class: 'pv-rowhead' }, f.label || f.key)),
    p.colKeys.map((ck) => h('th', { scope: 'colgroup', colspan: nv, class: 'num pv-colhead' }, colFields.length ? colLabel(ck) : valueFields[0]?.label || '')),
    hasTotals ? h('th', { scope: 'colgroup', colspan: nv, class: 'num pv-total' }, 'Total') : null,
  );
  headRows.push(top);
  if (nv > 1) {
    const groups = p.colKeys.length + (hasTotals ? 1 : 0);
    headRows.push(h('tr', {}, Array.from({ length: groups }, () => valueFields.map((f) => h('th', { scope: 'col', class: 'num pv-sub' }, f.label || f.key)))));
  }
  const body = p.rowKeys.map((rk, r) =>
    h(
      'tr',
      {},
      rk.map((v, i) => h('th', { scope: 'row', class: 'pv-rowhead' }, formatCell(v, rowFields[i], typeOf(rowFields[i])))),
      p.colKeys.map((_, c) => valueFields.map((_, v) => h('td', { class: 'num' }, fmtV(p.cell(r, c, v), v)))),
      hasTotals ? valueFields.map((_, v) => h('td', { class: 'num pv-total' }, fmtV(p.rowTotal(r, v), v))) : null,
    ),
  );
  const foot = hasTotals
    ? h(
        'tr',
        { class: 'pv-foot' },
        h('th', { scope: 'row', colspan: Math.max(1, rowFields.length), class: 'pv-rowhead' }, 'Total'),
        p.colKeys.map((_, c) => valueFields.map((_, v) => h('td', { class: 'num' }, fmtV(p.colTotal(c, v), v)))),
        valueFields.map((_, v) => h('td', { class: 'num pv-total' }, fmtV(p.grandTotal(v), v))),
      )
    : null;
  const box = scrollShadows(
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': `${w.title || w.name}, table` },
      h('table', { class: `grid-table pivot-table${nv === 1 ? ' pivot-table--stick-total' : ''}` }, h('thead', {}, headRows), h('tbody', {}, body), foot ? h('tfoot', {}, foot) : null),
    ),
  );
  if (nv === 1) box.classList.add('scroll-box--sticky-right');
  return box;
}
