// Series colours that belong to the value they show: a category ("East", "Onboarding") keeps its
// colour across filters and across tiles for the whole page, and at least 24 values get distinct
// colours before any repeats.

/** 24 colours, distinct from each other in hue and lightness, readable on light surfaces. */
export const PALETTE = [
  '#4f5bd5', '#2bb3a3', '#f2a93b', '#e4606d', '#8a63d2', '#3d9be9',
  '#79b957', '#e879a8', '#c98a4b', '#1f7a63', '#b3476b', '#5b6b8c',
  '#c9a206', '#0e7c9b', '#7a4b2a', '#e07b39', '#3f8a22', '#0b3d91',
  '#a3a3a3', '#17a2c8', '#d6336c', '#8ab32b', '#996b00', '#c4b5fd',
];

/** The palette for dark surfaces: the same hues, lighter. */
export const PALETTE_DARK = PALETTE.map((c) => mix(c, '#ffffff', 0.22));

const assigned = new Map<string, number>();

/**
 * The palette index of a series or category value: the first value seen gets 0, the next 1, and
 * so on; a value keeps its index for the page's life, whatever the filters remove later.
 */
export function colorIndex(value: string): number {
  let i = assigned.get(value);
  if (i === undefined) {
    i = assigned.size;
    assigned.set(value, i);
  }
  return i;
}

/** The colour of a value in a palette (indices past the palette's end wrap around). */
export function colorFor(value: string, palette: string[]): string {
  return palette[colorIndex(value) % palette.length];
}

/** Forgets every assignment (tests). */
export function resetColors(): void {
  assigned.clear();
}

/**
 * The series palette for a theme: a custom primary colour leads, and palette colours too close
 * to it are left out, so no series is mistaken for another.
 */
export function seriesPalette(dark: boolean, primary?: string): string[] {
  const base = dark ? PALETTE_DARK : PALETTE;
  const p = primary ? parseHex(primary) : undefined;
  if (!p) return [...base];
  const far = base.filter((c) => distance(parseHex(c)!, p) > 90);
  return [primary!, ...far.slice(0, base.length - 1)];
}

function parseHex(c: string): [number, number, number] | undefined {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c.trim());
  if (!m) return undefined;
  const h = m[1].length === 3 ? [...m[1]].map((x) => x + x).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
}

function distance(a: [number, number, number], b: [number, number, number]): number {
  // "Redmean" weighted distance: cheap and close enough to perceived difference.
  const r = (a[0] + b[0]) / 2;
  const [dr, dg, db] = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  return Math.sqrt((2 + r / 256) * dr * dr + 4 * dg * dg + (2 + (255 - r) / 256) * db * db);
}

function mix(a: string, b: string, t: number): string {
  const x = parseHex(a)!;
  const y = parseHex(b)!;
  return '#' + x.map((v, i) => Math.round(v + (y[i] - v) * t).toString(16).padStart(2, '0')).join('');
}
