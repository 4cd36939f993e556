import { beforeEach, describe, expect, it } from 'vitest';
import { axisTooltip, legendRows, narrowPieGeometry } from '../src/charts';
import { PALETTE, PALETTE_DARK, colorFor, resetColors, seriesPalette } from '../src/colors';
import { formatCell, formatNumber } from '../src/format';
import { resolveTheme } from '../src/theme';

describe('series colours', () => {
  beforeEach(() => resetColors());
  it('a category keeps its colour when a filter removes the others, and across tiles', () => {
    const p = resolveTheme('light').palette;
    const all = ['East', 'North', 'South', 'West'].map((v) => colorFor(v, p));
    // A filter leaves only West: it keeps the colour it had, not the first one.
    expect(colorFor('West', p)).toBe(all[3]);
    expect(colorFor('West', p)).not.toBe(all[0]);
    // Another tile showing the same value uses the same colour.
    expect(colorFor('East', resolveTheme('light').palette)).toBe(all[0]);
  });
  it('at least 20 series get distinct colours, in light and dark', () => {
    for (const palette of [PALETTE, PALETTE_DARK]) {
      const colours = Array.from({ length: 20 }, (_, i) => palette[i]);
      expect(new Set(colours).size).toBe(20);
    }
    const p = resolveTheme('dark').palette;
    expect(new Set(Array.from({ length: 24 }, (_, i) => colorFor(`s${i}`, p))).size).toBe(24);
  });
  it('a custom primary colour leads and colours close to it are left out', () => {
    const p = seriesPalette(false, '#4e5ad4'); // almost the default indigo
    expect(p[0]).toBe('#4e5ad4');
    expect(p.slice(1)).not.toContain('#4f5bd5');
    expect(p.length).toBeGreaterThanOrEqual(20);
  });
});

describe('numbers as a BI user reads them', () => {
  it('large currency values drop their cents, small ones keep them', () => {
    expect(formatNumber(229_402_118.37, 'currency')).toBe('$229,402,118');
    expect(formatNumber(1234.5, 'currency')).toBe('$1,234.50');
  });
  it('id columns have no thousands separators', () => {
    expect(formatCell(1048576, { expr: 'order_id', key: 'order_id', label: 'Order' }, 'integer')).toBe('1048576');
    expect(formatCell(1048576, { expr: 'o', key: 'o', label: 'Order ID' }, 'integer')).toBe('1048576');
    expect(formatCell(1048576, { expr: 'qty', key: 'qty', label: 'Quantity' }, 'integer')).toBe('1,048,576');
  });
  it('a table can leave the zone out of each timestamp cell', () => {
    const f = { expr: 'ts', key: 'ts', label: 'Time' };
    expect(formatCell('2025-12-30T08:15:00Z', f, 'timestamp')).toBe('Dec 30, 2025, 08:15 UTC');
    expect(formatCell('2025-12-30T08:15:00Z', f, 'timestamp', false)).toBe('Dec 30, 2025, 08:15');
  });
});

describe('chart tooltips and legends', () => {
  const p = (seriesName: string, value: number, seriesIndex = 0) => ({ seriesName, value, seriesIndex, marker: '', axisValueLabel: 'Jan 2025' });
  it('shows full values in the field format, and a total when stacked', () => {
    const html = axisTooltip([p('East', 1234.5), p('West', 1000, 1)], ['currency', 'currency'], true);
    expect(html).toContain('$1,234.50');
    expect(html).toContain('Total');
    expect(html).toContain('$2,234.50');
    expect(axisTooltip([p('East', 1), p('West', 2)], ['number'], false)).not.toContain('Total');
  });
  it('escapes series names', () => {
    expect(axisTooltip([p('<b>x</b>', 1)], [undefined], false)).not.toContain('<b>x</b>');
  });
  it('a legend wraps onto more rows in a narrow chart', () => {
    const names = Array.from({ length: 12 }, (_, i) => `Product ${i}`);
    expect(legendRows(names, 1400)).toBe(1);
    expect(legendRows(names, 360)).toBeGreaterThan(2);
  });
});

describe('pivot CSV', () => {
  it('is the grid with labels and totals, not long rows', async () => {
    const { pivotCSV } = await import('../src/csv');
    const w = {
      name: 'p', title: 'P', type: 'pivot' as const, layout: { x: 0, y: 0, w: 12, h: 4 },
      rows: [{ expr: 'region', key: 'region', label: 'Region' }],
      pivot_columns: [{ expr: 'product', key: 'product', label: 'Product' }],
      values: [{ expr: 'sum(amount)', key: 'sum_amount', label: 'Revenue' }],
    };
    const res = {
      columns: [{ name: 'region', type: 'string' as const }, { name: 'product', type: 'string' as const }, { name: 'sum_amount', type: 'float' as const }],
      rows: [['East', 'A', 1], ['East', 'B', 2], ['West', 'A', 3]],
    };
    expect(pivotCSV(w, res).split('\r\n')).toEqual(['Region,A,B,Total', 'East,1,2,3', 'West,3,,3', 'Total,4,2,6', '']);
  });
});

describe('partial periods', () => {
  it('marks the bucket the period filter cuts, and the one not over yet', async () => {
    const { isPartialBucket } = await import('../src/format');
    const now = new Date('2026-11-29T12:00:00Z');
    expect(isPartialBucket('2026-11-01', 'month', {}, now)).toBe(true); // not over yet
    expect(isPartialBucket('2026-10-01', 'month', {}, now)).toBe(false);
    expect(isPartialBucket('2026-01-01', 'month', { from: '2026-01-15' }, now)).toBe(true);
    expect(isPartialBucket('2026-01-01', 'month', { from: '2026-01-01' }, now)).toBe(false);
    expect(isPartialBucket('2026-03-01', 'month', { to: '2026-03-30' }, now)).toBe(true);
    expect(isPartialBucket('2026-03-01', 'month', { to: '2026-03-31' }, now)).toBe(false);
    expect(isPartialBucket('2026-04-01', 'quarter', { to: '2026-06-30' }, now)).toBe(false);
  });
  it('the axis label says it with an asterisk and the tooltip in words', async () => {
    const html = axisTooltip([{ seriesName: 'Revenue', value: 5, seriesIndex: 0, marker: '', axisValueLabel: 'Nov 2026*' }], ['number'], false);
    expect(html).toContain('Nov 2026');
    expect(html).toContain('(partial period)');
  });
});

describe('date presets', () => {
  it('a preset is kept for the server to resolve; all_time restricts nothing; unknown ones are dropped', async () => {
    const { normalize } = await import('../src/filters');
    const f = { name: 'period', title: 'Period', type: 'date_range' as const };
    expect(normalize(f, { preset: 'last_30_days' })).toEqual({ preset: 'last_30_days' });
    expect(normalize(f, { preset: 'all_time' })).toBeNull();
    expect(normalize(f, { preset: 'next_century' })).toBeNull();
    expect(normalize(f, { from: '2026-01-01' })).toEqual({ from: '2026-01-01' });
  });
});

describe('axis labels at phone width', () => {
  it('value labels of a horizontal bar chart are fewer and never overlap in a narrow chart', async () => {
    const { cartesianOption } = await import('../src/charts');
    const w = {
      name: 'b', title: 'B', type: 'bar' as const, horizontal: true, layout: { x: 0, y: 0, w: 6, h: 4 },
      x: { expr: 'customer', key: 'customer', label: 'Customer' },
      y: [{ expr: 'sum(amount)', key: 'sum_amount', label: 'Revenue', format: 'currency' }],
    };
    const res = { columns: [{ name: 'customer', type: 'string' as const }, { name: 'sum_amount', type: 'float' as const }], rows: [['a', 180000], ['b', 90000]] };
    const narrow = cartesianOption(w, res, resolveTheme('light'), 340) as { xAxis: { splitNumber?: number; axisLabel: { hideOverlap?: boolean } }; yAxis: { axisLabel: { hideOverlap?: boolean } } };
    expect(narrow.xAxis.splitNumber).toBe(3);
    expect(narrow.xAxis.axisLabel.hideOverlap).toBe(true);
    expect(narrow.yAxis.axisLabel.hideOverlap).toBe(true);
    const wide = cartesianOption(w, res, resolveTheme('light'), 1200) as { xAxis: { splitNumber?: number } };
    expect(wide.xAxis.splitNumber).toBeUndefined();
  });
});

describe('counter comparison', () => {
  it('says the change in percent, coloured by the declared direction', async () => {
    const { comparison } = await import('../src/format');
    expect(comparison(110, 100)).toMatchObject({ text: '▲ 10%', tone: 'good' });
    expect(comparison(90, 100)).toMatchObject({ text: '▼ 10%', tone: 'bad' });
    expect(comparison(90, 100, 'down')).toMatchObject({ text: '▼ 10%', tone: 'good' });
    expect(comparison(5, 0)?.text).toBe('▲ new');
    expect(comparison(5, 5)?.tone).toBe('flat');
    expect(comparison(5, null)).toBeUndefined();
  });
});

describe('narrow pie', () => {
  it('keeps the donut above a legend that wraps onto several rows', () => {
    const width = 260;
    const height = 300;
    const rows = 5; // ten products wrap onto five rows at this width
    const { center, radius } = narrowPieGeometry(width, height, rows);
    const legendTop = height - (rows * 26 + 10);
    expect(center[1] + radius[1]).toBeLessThanOrEqual(legendTop);
    expect(radius[1] * 2).toBeLessThanOrEqual(width);
    expect(radius[0]).toBeLessThan(radius[1]);
  });
  it('uses the room it has when the legend is short', () => {
    const one = narrowPieGeometry(260, 300, 1);
    const five = narrowPieGeometry(260, 300, 5);
    expect(one.radius[1]).toBeGreaterThan(five.radius[1]);
  });
});

describe('date range preset label', () => {
  it('no value reads "All time"; Custom only when dates are set; a preset shows itself', async () => {
    const { presetKey, PRESETS } = await import('../src/filters');
    const text = (k: string) => (k === '' ? 'Custom' : PRESETS.find(([key]) => key === k)?.[1]);
    expect(text(presetKey(null))).toBe('All time');
    expect(text(presetKey({}))).toBe('All time');
    expect(text(presetKey({ from: '', to: '' }))).toBe('All time');
    expect(text(presetKey({ from: '2026-01-01' }))).toBe('Custom');
    expect(text(presetKey({ to: '2026-03-31' }))).toBe('Custom');
    expect(text(presetKey({ preset: 'last_30_days' }))).toBe('Last 30 days');
  });
});
