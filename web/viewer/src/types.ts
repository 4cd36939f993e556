// Types of the embed API's JSON (docs/api.md) and of the page configuration.

/** The page configuration from <script id="inlay-config" type="application/json">. */
export interface PageConfig {
  dashboardId: string;
  apiBase: string;
  embedDomain: string;
  theme?: string;
}

export interface Field {
  expr: string;
  label: string;
  format?: string;
  key: string;
}

export interface Layout {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type WidgetType = 'counter' | 'bar' | 'line' | 'area' | 'pie' | 'table' | 'pivot' | 'text';

export interface Widget {
  name: string;
  title: string;
  type: WidgetType;
  value?: Field;
  x?: Field;
  y?: Field[];
  series?: Field;
  label?: Field;
  columns?: Field[];
  rows?: Field[];
  pivot_columns?: Field[];
  values?: Field[];
  limit?: number;
  layout: Layout;
  stacked?: boolean;
  horizontal?: boolean;
  /** Counters: compare with the previous period; up (default) or down is good. */
  compare?: 'previous_period';
  direction?: 'up' | 'down';
  /** Counters: a small line of the value by x under it (sent with the result as sparkline). */
  sparkline?: { x: Field };
  /** Text tiles: the server's sanitized HTML of the author's Markdown. */
  html?: string;
  /** The page (tab) the widget is on, when the dashboard has pages. */
  page?: string;
}

/** One page (tab) of a dashboard. */
export interface DashboardPage {
  name: string;
  title: string;
}

export type FilterType = 'single_select' | 'multi_select' | 'date_range' | 'numeric_range';

export interface DateRange {
  from?: string;
  to?: string;
  /** A relative range the server resolves in the dashboard's time zone ("last_30_days"). */
  preset?: string;
}

export interface NumericRange {
  min?: number;
  max?: number;
}

/** A filter value as the query API takes it; null means "no restriction". */
export type FilterValue = string | string[] | DateRange | NumericRange | null;

export interface Filter {
  name: string;
  title: string;
  type: FilterType;
  default?: FilterValue;
  options?: (string | number | boolean | null)[];
  range?: { min?: string | number; max?: string | number };
}

export interface Dashboard {
  id: string;
  title: string;
  description?: string;
  filters: Filter[] | null;
  widgets: Widget[] | null;
  pages?: DashboardPage[];
}

export interface DashboardResponse {
  dashboard: Dashboard;
  viewer: { id: string; capabilities: string[] | null };
  expires_at?: string;
}

export type ColumnType = 'string' | 'integer' | 'float' | 'decimal' | 'boolean' | 'timestamp' | 'date' | 'other';

export interface Column {
  name: string;
  type: ColumnType;
}

export type Cell = string | number | boolean | null;

export interface ApiError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface WidgetResult {
  columns?: Column[];
  rows?: Cell[][];
  truncated?: boolean;
  /** Paged tables: the rows the widget has in all, and where this page starts. */
  total_rows?: number;
  /** Compared counters: the value over the previous period [from, to). */
  previous?: { rows: Cell[][]; from: string; to: string };
  /** Counters with a sparkline: [x, value] rows in x order. */
  sparkline?: { columns: Column[]; rows: Cell[][] };
  offset?: number;
  duration_ms?: number;
  cached?: boolean;
  error?: ApiError;
}

export interface QueryResponse {
  results: Record<string, WidgetResult>;
  duration_ms: number;
}

export interface ThemeColors {
  primary?: string;
  background?: string;
  surface?: string;
  text?: string;
  muted?: string;
}

export interface ThemeOverride {
  mode?: 'light' | 'dark';
  colors?: ThemeColors;
  font?: string;
}

export type ThemeInput = 'light' | 'dark' | ThemeOverride;
