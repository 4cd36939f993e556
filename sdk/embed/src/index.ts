export { InlayDashboard } from './dashboard';
export { DatabricksDashboard } from './databricks';
export type { ColorScheme, DatabricksDashboardOptions } from './databricks';
export type { InlayDashboardOptions } from './dashboard';
export { InlayEmbedError } from './errors';
export type { InlayEmbedErrorCode } from './errors';
export type {
  DashboardInfo,
  FilterValue,
  Filters,
  InlayEventMap,
  InlayEventName,
  Theme,
  ThemeOverrides,
  TileStatus,
} from './types';
