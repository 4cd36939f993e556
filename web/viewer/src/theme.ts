// Light and dark themes as CSS variables, with host overrides (colors, font). Charts read the
// resolved values from here, so a theme change re-colours them without reloading data.

import { seriesPalette } from './colors';
import type { ThemeInput, ThemeOverride } from './types';

export interface Theme {
  mode: 'light' | 'dark';
  primary: string;
  background: string;
  surface: string;
  text: string;
  muted: string;
  border: string;
  grid: string;
  font: string;
  palette: string[];
}

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

const base: Record<'light' | 'dark', Omit<Theme, 'palette'> & { palette: string[] }> = {
  light: {
    mode: 'light',
    primary: '#4f5bd5',
    background: '#f5f6f8',
    surface: '#ffffff',
    text: '#1d2433',
    muted: '#667085',
    border: '#e4e7ec',
    grid: '#eef0f3',
    font: FONT,
    palette: ['#4f5bd5', '#2bb3a3', '#f2a93b', '#e4606d', '#8a63d2', '#3d9be9', '#79b957', '#e879a8', '#98a2b3', '#c98a4b'],
  },
  dark: {
    mode: 'dark',
    primary: '#8b95ff',
    background: '#0f131a',
    surface: '#171c25',
    text: '#e7eaf0',
    muted: '#98a2b3',
    border: '#283040',
    grid: '#222a36',
    font: FONT,
    palette: ['#8b95ff', '#3cc9b7', '#f5b85a', '#f07a85', '#a888ea', '#5cb0f2', '#8fcd6e', '#f096bd', '#aab3c2', '#d9a06a'],
  },
};

/** Parses the config's theme: "light", "dark", or a JSON override object. */
export function parseTheme(input: unknown): ThemeOverride {
  if (input === 'light' || input === 'dark') return { mode: input };
  if (typeof input === 'string' && input.trim().startsWith('{')) {
    try {
      return parseTheme(JSON.parse(input));
    } catch {
      return {};
    }
  }
  if (input && typeof input === 'object') return input as ThemeOverride;
  return {};
}

// A colour a host may set: hex, rgb()/hsl() or a named colour; nothing that could carry url().
const colorRE = /^(#[0-9a-f]{3,8}|(rgb|rgba|hsl|hsla)\([\d\s.,%/]+\)|[a-z]{3,20})$/i;
const fontRE = /^[\w\s"',.-]{1,200}$/;

export function resolveTheme(input: ThemeInput | ThemeOverride | undefined): Theme {
  const o = typeof input === 'string' ? { mode: input } : (input ?? {});
  const mode = o.mode === 'dark' ? 'dark' : 'light';
  const t = { ...base[mode], palette: [...base[mode].palette] };
  const c = o.colors ?? {};
  for (const k of ['primary', 'background', 'surface', 'text', 'muted'] as const) {
    const v = c[k];
    if (typeof v === 'string' && colorRE.test(v.trim())) t[k] = v.trim();
  }
  if (typeof o.font === 'string' && fontRE.test(o.font)) t.font = `${o.font}, ${FONT}`;
  t.palette = seriesPalette(mode === 'dark', t.primary !== base[mode].primary ? t.primary : undefined);
  return t;
}

export function applyTheme(t: Theme): void {
  const root = document.documentElement;
  root.dataset.theme = t.mode;
  root.style.colorScheme = t.mode;
  const vars: Record<string, string> = {
    '--primary': t.primary,
    '--bg': t.background,
    '--surface': t.surface,
    '--text': t.text,
    '--muted': t.muted,
    '--border': t.border,
    '--grid': t.grid,
    '--font': t.font,
  };
  for (const [k, v] of Object.entries(vars)) root.style.setProperty(k, v);
}
