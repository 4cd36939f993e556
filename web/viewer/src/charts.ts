// ECharts options for bar, line, area and pie widgets, built from a widget's fields, its result
// and the current theme. Only the charts and components used here are bundled.

import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import type { EChartsCoreOption } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { colorFor } from './colors';
import { formatCell, formatNumber, grainOf, isPartialBucket, toNumber } from './format';
import type { Theme } from './theme';
import type { Cell, Field, Widget, WidgetResult } from './types';

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { echarts };

/** The axis format for a field's values: compact, keeping currency and percent. */
function axisFormat(format?: string): string {
  if (format === 'currency' || format?.startsWith('$')) return 'currency_compact';
  if (format === 'percent' || format?.endsWith('%')) return 'percent';
  return 'compact';
}

/**
 * Tooltips live in the page's body (not the tile), so a long one is not cut at the tile's edge,
 * and are placed inside the frame's viewport.
 */
function tooltipBase(t: Theme, host?: HTMLElement) {
  return {
    backgroundColor: t.surface,
    borderColor: t.border,
    borderWidth: 1,
    padding: [8, 12],
    textStyle: { color: t.text, fontFamily: t.font, fontSize: 12 },
    extraCssText: 'box-shadow: 0 6px 20px rgba(16,24,40,.14); border-radius: 8px; max-width: min(480px, calc(100vw - 16px));',
    appendTo: host ? () => document.body : undefined,
    confine: !host,
    position: host ? (point: number[], _p: unknown, _d: unknown, _r: unknown, size: { contentSize: number[] }) => placeInViewport(host, point, size.contentSize) : undefined,
  };
}

/** Where a tooltip of size [w, h] goes for a pointer at point (chart coordinates): in the viewport. */
export function placeInViewport(host: HTMLElement, point: number[], [w, h]: number[]): number[] {
  const r = host.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const vh = Math.max(document.documentElement.clientHeight, window.innerHeight);
  let x = point[0] + 14;
  if (r.left + x + w > vw - 8) x = point[0] - 14 - w;
  x = Math.max(8 - r.left, Math.min(x, vw - 8 - w - r.left));
  let y = point[1] - h / 2;
  y = Math.max(8 - r.top, Math.min(y, vh - 8 - h - r.top));
  return [x, y];
}

/** Rows a wrapping legend of these names takes at this chart width (approximate text widths). */
export function legendRows(names: string[], width: number): number {
  if (width <= 0) return 1;
  let rows = 1;
  let x = 0;
  for (const n of names) {
    const w = 10 + 5 + n.length * 6.6 + 14;
    if (x > 0 && x + w > width) {
      rows++;
      x = 0;
    }
    x += w;
  }
  return rows;
}

function legend(t: Theme, show: boolean) {
  return {
    show,
    type: 'plain', // wraps onto more rows instead of paging
    top: 0,
    left: 0,
    icon: 'roundRect',
    itemWidth: 10,
    itemHeight: 10,
    itemGap: 14,
    textStyle: { color: t.muted, fontFamily: t.font, fontSize: 12 },
    pageTextStyle: { color: t.muted },
    pageIconColor: t.muted,
    pageIconInactiveColor: t.border,
  };
}

const isTime = (f: Field | undefined, type: string | undefined) => !!grainOf(f?.expr) || type === 'date' || type === 'timestamp';

/** Options for bar, line and area widgets; undefined when the result has no rows. */
/** The period filter's range, to mark buckets it cuts (and the bucket that is not over yet). */
export interface PeriodContext {
  range: { from?: string; to?: string };
  now: Date;
}

export function cartesianOption(w: Widget, res: WidgetResult, t: Theme, width = 0, host?: HTMLElement, period?: PeriodContext): EChartsCoreOption | undefined {
  const columns = res.columns ?? [];
  const rows = res.rows ?? [];
  const xField = w.x;
  const yFields = w.y ?? [];
  if (!xField || yFields.length === 0 || rows.length === 0) return undefined;
  const col = (f: Field) => columns.findIndex((c) => c.name === f.key);
  const xi = col(xField);
  const xType = columns[xi]?.type;
  const si = w.series ? col(w.series) : -1;
  const yi = yFields.map(col);

  // Categories in the server's order, or chronological for time axes.
  const cats: Cell[] = [];
  const catPos = new Map<string, number>();
  const seriesVals: Cell[] = [];
  const seriesPos = new Map<string, number>();
  for (const r of rows) {
    const x = r[xi];
    if (!catPos.has(String(x))) catPos.set(String(x), cats.push(x) - 1);
    if (si >= 0 && !seriesPos.has(String(r[si]))) seriesPos.set(String(r[si]), seriesVals.push(r[si]) - 1);
  }
  if (isTime(xField, xType)) {
    cats.sort((a, b) => String(a).localeCompare(String(b)));
    cats.forEach((c, i) => catPos.set(String(c), i));
  }
  // A bucket that holds only part of its period says so: "Nov 2026*" on the axis, "(partial
  // period)" in the tooltip.
  const grain = grainOf(xField.expr);
  const partial = cats.map((c) => !!grain && !!period && typeof c === 'string' && isPartialBucket(c, grain, period.range, period.now));
  const labels = cats.map((c, i) => formatCell(c, xField, xType) + (partial[i] ? '*' : ''));

  const stacked = w.stacked ?? false;
  const kind = w.type === 'bar' ? 'bar' : 'line';
  const area = w.type === 'area';
  const groups = si >= 0 ? seriesVals : [undefined];
  const series: object[] = [];
  const formats: (string | undefined)[] = [];
  yFields.forEach((yf, yIdx) => {
    groups.forEach((g) => {
      const values: (number | null)[] = new Array(cats.length).fill(stacked ? 0 : null);
      for (const r of rows) {
        if (g !== undefined && String(r[si]) !== String(g)) continue;
        values[catPos.get(String(r[xi]))!] = toNumber(r[yi[yIdx]]);
      }
      // Each point carries the raw category and series values it stands for (cross-filtering).
      const data = values.map((value, i) => ({ value, x: cats[i], s: g }));
      const gName = g === undefined ? '' : formatCell(g, w.series, columns[si]?.type);
      const name = g === undefined ? yf.label || yf.key : yFields.length > 1 ? `${gName} · ${yf.label || yf.key}` : gName;
      formats.push(yf.format);
      series.push({
        type: kind,
        name,
        // A value keeps its colour everywhere; a chart of measures alone uses the lead colours.
        color: g === undefined ? t.palette[yIdx % t.palette.length] : colorFor(String(g), t.palette),
        data,
        stack: stacked ? `y${yIdx}` : undefined,
        smooth: kind === 'line' ? 0.2 : undefined,
        showSymbol: kind === 'line' && cats.length <= 12,
        symbolSize: 6,
        lineStyle: kind === 'line' ? { width: 2 } : undefined,
        areaStyle: area ? { opacity: stacked ? 0.85 : 0.18 } : undefined,
        barMaxWidth: 36,
        itemStyle: kind === 'bar' ? { borderRadius: stacked ? 0 : w.horizontal ? [0, 3, 3, 0] : [3, 3, 0, 0] } : undefined,
        emphasis: { focus: 'series' },
      });
    });
  });

  const showLegend = series.length > 1;
  const rowsOfLegend = showLegend ? legendRows(series.map((x) => (x as { name: string }).name), width - 8) : 0;
  const axisText = { color: t.muted, fontFamily: t.font, fontSize: 11 };
  const categoryAxis = {
    type: 'category',
    data: labels,
    boundaryGap: kind === 'bar',
    axisLine: { lineStyle: { color: t.border } },
    axisTick: { show: false },
    axisLabel: { ...axisText, hideOverlap: true, formatter: (v: string) => v.replace(/^Week of /, '') },
    inverse: w.horizontal ?? false,
  };
  const horizontalBars = w.type === 'bar' && !!w.horizontal;
  const valueAxis = {
    type: 'value',
    // Horizontal value labels need room: fewer of them in a narrow chart, and none overlapping.
    splitNumber: horizontalBars && width > 0 && width < 520 ? 3 : undefined,
    axisLabel: { ...axisText, hideOverlap: true, formatter: (v: number) => formatNumber(v, axisFormat(yFields[0].format)) },
    splitLine: { lineStyle: { color: t.grid } },
    axisLine: { show: false },
  };
  const horizontal = w.type === 'bar' && w.horizontal;
  return {
    animation: false,
    color: t.palette,
    textStyle: { fontFamily: t.font },
    legend: legend(t, showLegend),
    grid: { left: 4, right: 16, top: showLegend ? 14 + rowsOfLegend * 22 : 12, bottom: 4, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    tooltip: {
      ...tooltipBase(t, host),
      trigger: 'axis',
      formatter: (params: AxisParam | AxisParam[]) => axisTooltip(Array.isArray(params) ? params : [params], formats, stacked),
      axisPointer: { type: kind === 'bar' ? 'shadow' : 'line', lineStyle: { color: t.border }, shadowStyle: { color: t.mode === 'dark' ? 'rgba(255,255,255,0.04)' : 'rgba(16,24,40,0.04)' } },
    },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? categoryAxis : valueAxis,
    series,
  };
}

/** Below this chart width a pie's legend goes under the donut instead of beside it. */
export const PIE_NARROW = 320;

/** Options for a pie (donut) widget; small slices beyond the first 9 are grouped as "Other". */
export function pieOption(w: Widget, res: WidgetResult, t: Theme, width: number, host?: HTMLElement): EChartsCoreOption | undefined {
  const columns = res.columns ?? [];
  const rows = res.rows ?? [];
  if (!w.label || !w.value || rows.length === 0) return undefined;
  const li = columns.findIndex((c) => c.name === w.label!.key);
  const vi = columns.findIndex((c) => c.name === w.value!.key);
  let data: { name: string; value: number; x?: Cell; itemStyle?: { color: string } }[] = rows
    .map((r) => ({ name: formatCell(r[li], w.label, columns[li]?.type), value: toNumber(r[vi]) ?? 0, x: r[li] as Cell | undefined, itemStyle: { color: colorFor(String(r[li]), t.palette) } }))
    .sort((a, b) => b.value - a.value);
  if (data.length > 10) {
    const other = data.slice(9).reduce((s, d) => s + d.value, 0);
    data = [...data.slice(0, 9), { name: 'Other', value: other, itemStyle: { color: t.mode === 'dark' ? '#6b7485' : '#98a2b3' } }];
  }
  const fmt = w.value.format;
  const narrow = width < PIE_NARROW;
  const ring = narrow ? narrowPieGeometry(width, host?.clientHeight ?? 0, legendRows(data.map((d) => d.name), width - 8)) : undefined;
  return {
    animation: false,
    color: t.palette,
    textStyle: { fontFamily: t.font },
    legend: narrow
      ? { ...legend(t, true), orient: 'horizontal', top: undefined, bottom: 0, left: 'center' }
      : { ...legend(t, true), orient: 'vertical', top: 'middle', left: undefined, right: 0 },
    tooltip: {
      ...tooltipBase(t, host),
      trigger: 'item',
      formatter: (p: { name: string; value: number; percent: number; marker: string }) =>
        `${p.marker}${escapeHTML(p.name)}<br><b>${formatNumber(p.value, fmt)}</b> <span style="opacity:.7">(${formatNumber(p.percent / 100, 'percent')})</span>`,
    },
    series: [
      {
        type: 'pie',
        radius: ring ? ring.radius : ['40%', '62%'],
        center: ring ? ring.center : ['31%', '50%'],
        avoidLabelOverlap: true,
        itemStyle: { borderColor: t.surface, borderWidth: 2, borderRadius: 4 },
        label: { show: false },
        labelLine: { show: false },
        emphasis: { scale: true, scaleSize: 4 },
        data,
      },
    ],
  };
}

/**
 * Where a narrow pie's donut goes: above its wrapped legend, sized to the room the legend leaves
 * (a legend of many entries takes several rows, which would otherwise cover the donut).
 */
export function narrowPieGeometry(width: number, height: number, legendRowCount: number): { center: [string, number]; radius: [number, number] } {
  const legendHeight = legendRowCount * 26 + 10; // ECharts: 10 px icons, 12 px text, 14 px gaps, 5 px padding
  const h = height > 0 ? height : width;
  const room = Math.max(64, h - legendHeight);
  const outer = Math.max(24, Math.min(width, room) / 2 - 6);
  return { center: ['50%', Math.round(room / 2)], radius: [Math.round(outer * 0.62), Math.round(outer)] };
}

function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface AxisParam {
  axisValueLabel?: string;
  seriesName: string;
  seriesIndex: number;
  value: unknown;
  marker: string;
}

/** An axis tooltip: every series' full value in its own format, and a total for stacked charts. */
export function axisTooltip(ps: AxisParam[], formats: (string | undefined)[], stacked: boolean): string {
  const shown = ps.filter((p) => typeof p.value === 'number');
  const label = ps[0]?.axisValueLabel ?? '';
  const partial = label.endsWith('*');
  const head = `<div style="font-weight:600;margin-bottom:4px">${escapeHTML(partial ? label.slice(0, -1) : label)}${partial ? ' <span style="font-weight:400;opacity:.7">(partial period)</span>' : ''}</div>`;
  const cols = shown.length > 12 ? 2 : 1;
  const rows = shown
    .map((p) => `<div style="display:flex;gap:12px;justify-content:space-between"><span>${p.marker}${escapeHTML(p.seriesName)}</span><b>${formatNumber(p.value as number, formats[p.seriesIndex])}</b></div>`)
    .join('');
  let total = '';
  if (stacked && shown.length > 1) {
    const sum = shown.reduce((s, p) => s + (p.value as number), 0);
    total = `<div style="display:flex;gap:12px;justify-content:space-between;border-top:1px solid rgba(128,128,128,.3);margin-top:4px;padding-top:4px"><span>Total</span><b>${formatNumber(sum, formats[shown[0].seriesIndex])}</b></div>`;
  }
  return `${head}<div style="display:grid;grid-template-columns:repeat(${cols},auto);column-gap:18px">${rows}</div>${total}`;
}
