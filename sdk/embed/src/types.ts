/** A filter value: single select (string), multi select (string[]), date range, numeric range. */
export type FilterValue =
  | string
  | string[]
  | { from?: string; to?: string }
  | { min?: number; max?: number }
  | null;

export type Filters = Record<string, FilterValue>;

export interface ThemeOverrides {
  mode?: 'light' | 'dark';
  colors?: Partial<Record<'primary' | 'background' | 'surface' | 'text' | 'muted', string>>;
  font?: string;
}

export type Theme = 'light' | 'dark' | ThemeOverrides;

/** What the viewer says about the dashboard in most events. */
export interface DashboardInfo {
  id: string;
  title: string;
  dashboard_filters: Filters;
}

export interface TileStatus {
  tileId: string;
  status: string;
  errors?: unknown[];
}

/** Events from the viewer (docs/embedding.md), plus the SDK's own `token:*` events. */
export interface InlayEventMap {
  'dashboard:loaded': { dashboard: DashboardInfo };
  'dashboard:run:start': { dashboard: DashboardInfo };
  'dashboard:tile:complete': {
    tile: { name: string; title: string; status: string; rows?: number; error?: unknown };
  };
  'dashboard:run:complete': {
    dashboard: DashboardInfo;
    status: 'complete' | 'error';
    tileStatuses: TileStatus[];
  };
  'dashboard:filters:changed': { dashboard: DashboardInfo };
  'dashboard:tile:download': { tile: { name: string; title: string }; rows: number };
  /** A click on a bar, slice, point or row set a filter (cleared: the viewer undid it). */
  'dashboard:crossfilter': {
    dashboard: DashboardInfo;
    tile?: { name: string; title: string };
    filter: string;
    value: FilterValue;
    cleared?: boolean;
  };
  /** The viewer switched to another page (tab) of the dashboard. */
  'dashboard:page:changed': { dashboard: DashboardInfo; page: { name: string; title: string } };
  'page:properties:changed': { height: number };
  'dashboard:error': { code: string; message: string };
  'session:token:request': { reason: 'initial' | 'expiring' | 'expired' };
  /** The SDK got a new token from `getNewToken` and sent it to the frame. */
  'token:refreshed': { expiresAt: Date | null };
  /** A refresh failed; another attempt follows in `retryInMs`. */
  'token:refresh:error': { error: Error; attempt: number; retryInMs: number };
}

export type InlayEventName = keyof InlayEventMap;
