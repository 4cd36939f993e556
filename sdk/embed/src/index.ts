export { InlayDashboard } from './dashboard';
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
