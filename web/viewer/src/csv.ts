// CSV helpers for downloads.

import { formatCell } from './format';
import { buildPivot, totalOf } from './pivot';
import type { Widget, WidgetResult } from './types';

/** Counts CSV data records (not lines: quoted fields may hold newlines), without the header. */
export function csvRecords(csv: string): number {
  let records = 0;
  let quoted = false;
  let hasContent = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      if (hasContent) records++;
      hasContent = false;
      continue;
    }
    if (c !== '\r') hasContent = true;
  }
  if (hasContent) records++;
  return Math.max(0, records - 1);
}


function field(s: string): string {
  // Spreadsheet formula injection: a text cell starting with = + - @ gets a leading quote.
  const safe = /^[=+\-@\t\r]/.test(s) && !Number.isFinite(Number(s)) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * A pivot as the grid the viewer shows: one header row of labels (row fields, then each column
 * value with each value field, then Total), one line per row, and a Total line. Numbers stay
 * unformatted so a spreadsheet can add them up.
 */
export function pivotCSV(w: Widget, res: WidgetResult): string {
  const columns = res.columns ?? [];
  const rowFields = w.rows ?? [];
  const colFields = w.pivot_columns ?? [];
  const valueFields = w.values ?? [];
  const p = buildPivot(columns, res.rows ?? [], rowFields, colFields, valueFields);
  const typeOf = (key: string) => columns.find((c) => c.name === key)?.type;
  const hasTotals = valueFields.some((f) => totalOf(f.expr));
  const nv = valueFields.length;
  const colName = (ck: (string | number | boolean | null)[]) => ck.map((v, i) => formatCell(v, colFields[i], typeOf(colFields[i].key))).join(' · ');
  const valueName = (base: string, v: number) => (nv > 1 ? `${base} · ${valueFields[v].label || valueFields[v].key}` : base || valueFields[v].label || valueFields[v].key);
  const num = (x: number | null) => (x === null ? '' : String(x));
  const header = [
    ...rowFields.map((f) => f.label || f.key),
    ...p.colKeys.flatMap((ck) => valueFields.map((_, v) => valueName(colFields.length ? colName(ck) : '', v))),
    ...(hasTotals ? valueFields.map((_, v) => valueName('Total', v)) : []),
  ];
  const lines = [header];
  p.rowKeys.forEach((rk, r) => {
    lines.push([
      ...rk.map((v, i) => formatCell(v, rowFields[i], typeOf(rowFields[i].key))),
      ...p.colKeys.flatMap((_, c) => valueFields.map((_, v) => num(p.cell(r, c, v)))),
      ...(hasTotals ? valueFields.map((_, v) => num(p.rowTotal(r, v))) : []),
    ]);
  });
  if (hasTotals) {
    lines.push([
      'Total',
      ...rowFields.slice(1).map(() => ''),
      ...p.colKeys.flatMap((_, c) => valueFields.map((_, v) => num(p.colTotal(c, v)))),
      ...valueFields.map((_, v) => num(p.grandTotal(v))),
    ]);
  }
  return lines.map((l) => l.map(field).join(',')).join('\r\n') + '\r\n';
}
