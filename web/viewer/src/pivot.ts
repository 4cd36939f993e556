// Builds a pivot table client-side from grouped rows: one output row per distinct combination of
// the row fields, one column group per distinct combination of the pivot-column fields, and the
// value fields in each group, with row and column totals.

import { toNumber } from './format';
import type { Cell, Column, Field } from './types';

export interface Pivot {
  /** Distinct row-field tuples, in first-seen order (the server's sort). */
  rowKeys: Cell[][];
  /** Distinct pivot-column tuples, sorted ascending. */
  colKeys: Cell[][];
  /** cell(r, c, v): the value of value field v at row r, column c, or null. */
  cell(r: number, c: number, v: number): number | null;
  /** Row total of value field v over all columns (null when the aggregate does not add up). */
  rowTotal(r: number, v: number): number | null;
  /** Column total of value field v over all rows. */
  colTotal(c: number, v: number): number | null;
  grandTotal(v: number): number | null;
}

type Combine = (a: number, b: number) => number;

/**
 * How a value field's totals combine, from its aggregate: sums and counts add, min and max keep
 * the extreme; averages and distinct counts cannot be combined from the groups, so they get no
 * total.
 */
export function totalOf(expr: string): Combine | undefined {
  const e = expr.trim().toLowerCase();
  if (/^count\s*\(\s*distinct\b/.test(e)) return undefined;
  if (/^(sum|count)\s*\(/.test(e)) return (a, b) => a + b;
  if (/^min\s*\(/.test(e)) return Math.min;
  if (/^max\s*\(/.test(e)) return Math.max;
  return undefined;
}

const tupleKey = (t: Cell[]) => JSON.stringify(t);

function compareCells(a: Cell, b: Cell): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

function compareTuples(a: Cell[], b: Cell[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareCells(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

export function buildPivot(columns: Column[], rows: Cell[][], rowFields: Field[], colFields: Field[], valueFields: Field[]): Pivot {
  const index = (f: Field) => columns.findIndex((c) => c.name === f.key);
  const ri = rowFields.map(index);
  const ci = colFields.map(index);
  const vi = valueFields.map(index);
  const pick = (row: Cell[], idx: number[]) => idx.map((i) => (i < 0 ? null : row[i]));

  const rowKeys: Cell[][] = [];
  const rowPos = new Map<string, number>();
  const colMap = new Map<string, Cell[]>();
  for (const row of rows) {
    const rk = pick(row, ri);
    const k = tupleKey(rk);
    if (!rowPos.has(k)) {
      rowPos.set(k, rowKeys.length);
      rowKeys.push(rk);
    }
    const ck = pick(row, ci);
    colMap.set(tupleKey(ck), ck);
  }
  const colKeys = [...colMap.values()].sort(compareTuples);
  const colPos = new Map(colKeys.map((c, i) => [tupleKey(c), i]));

  const nv = valueFields.length;
  const nc = colKeys.length;
  const cells: (number | null)[] = new Array(rowKeys.length * nc * nv).fill(null);
  const at = (r: number, c: number, v: number) => (r * nc + c) * nv + v;
  for (const row of rows) {
    const r = rowPos.get(tupleKey(pick(row, ri)))!;
    const c = colPos.get(tupleKey(pick(row, ci)))!;
    vi.forEach((i, v) => {
      cells[at(r, c, v)] = i < 0 ? null : toNumber(row[i]);
    });
  }

  const combiners = valueFields.map((f) => totalOf(f.expr));
  const fold = (v: number, values: (number | null)[]) => {
    const combine = combiners[v];
    if (!combine) return null;
    let acc: number | null = null;
    for (const x of values) if (x !== null) acc = acc === null ? x : combine(acc, x);
    return acc;
  };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  return {
    rowKeys,
    colKeys,
    cell: (r, c, v) => cells[at(r, c, v)],
    rowTotal: (r, v) => fold(v, range(nc).map((c) => cells[at(r, c, v)])),
    colTotal: (c, v) => fold(v, range(rowKeys.length).map((r) => cells[at(r, c, v)])),
    grandTotal: (v) => fold(v, range(rowKeys.length).flatMap((r) => range(nc).map((c) => cells[at(r, c, v)]))),
  };
}
