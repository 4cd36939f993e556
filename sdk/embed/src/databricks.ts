import { InlayDashboard } from './dashboard';
import { InlayEmbedError } from './errors';
import type { Filters } from './types';

/** Colour schemes as AI/BI external embedding names them; `light dark` follows the system. */
export type ColorScheme = 'light' | 'dark' | 'light dark';

/**
 * The options of a `DatabricksDashboard`, as AI/BI external embedding documents them. A
 * frontend written for that SDK works against Inlay by changing only its import line.
 */
export interface DatabricksDashboardOptions {
  /** The Inlay server's URL (where a Databricks frontend passes its workspace URL). */
  instanceUrl: string;
  /** Accepted and ignored: Inlay has no workspaces. */
  workspaceId?: string | number;
  dashboardId: string;
  /** The embed token the backend minted for this viewer. */
  token: string;
  container: HTMLElement;
  /** Returns a fresh token; called ahead of expiry and when the dashboard asks for one. */
  getNewToken?: () => Promise<string> | string;
  /** Opens this page of a dashboard with pages (the first page when absent or unknown). */
  pageId?: string;
  /** `light`, `dark`, or `light dark` to follow the viewer's system preference (default light). */
  colorScheme?: ColorScheme;
  /**
   * Further settings. Inlay reads `filters` (initial filter values); other keys are accepted and
   * ignored, so a configuration written for Databricks does not break the embed.
   */
  config?: { filters?: Filters; [key: string]: unknown };
}

const DARK = '(prefers-color-scheme: dark)';

/**
 * A drop-in for the AI/BI client's `DatabricksDashboard`: `new DatabricksDashboard(options)`,
 * then `initialize()` and `destroy()`. Built on `InlayDashboard`, which `dashboard` exposes for
 * Inlay's events and actions.
 */
export class DatabricksDashboard {
  /** The Inlay embed underneath (events, filters, theme). */
  readonly dashboard: InlayDashboard;
  private media: MediaQueryList | undefined;
  private onScheme: ((e: MediaQueryListEvent) => void) | undefined;
  private readonly scheme: ColorScheme;

  constructor(options: DatabricksDashboardOptions) {
    const o = (options ?? {}) as DatabricksDashboardOptions;
    const scheme = o.colorScheme ?? 'light';
    if (scheme !== 'light' && scheme !== 'dark' && scheme !== 'light dark') {
      throw new InlayEmbedError('invalid_options', 'colorScheme must be "light", "dark" or "light dark"');
    }
    this.scheme = scheme;
    const getNewToken =
      o.getNewToken ??
      (() => {
        throw new Error('no getNewToken was given: the session cannot be renewed');
      });
    this.dashboard = new InlayDashboard({
      instanceUrl: o.instanceUrl,
      dashboardId: o.dashboardId,
      token: o.token,
      container: o.container,
      getNewToken,
      theme: this.currentMode(),
      filters: o.config?.filters,
      pageId: typeof o.pageId === 'string' && o.pageId !== '' ? o.pageId : undefined,
    });
  }

  /** Creates the iframe and resolves once the dashboard has loaded. */
  async initialize(): Promise<void> {
    await this.dashboard.initialize();
    if (this.scheme === 'light dark' && typeof matchMedia === 'function') {
      this.media = matchMedia(DARK);
      this.onScheme = () => void this.dashboard.setTheme(this.currentMode()).catch(() => undefined);
      this.media.addEventListener('change', this.onScheme);
    }
  }

  /** Removes the iframe and stops refreshing the token. */
  destroy(): void {
    if (this.media && this.onScheme) this.media.removeEventListener('change', this.onScheme);
    this.dashboard.destroy();
  }

  private currentMode(): 'light' | 'dark' {
    if (this.scheme !== 'light dark') return this.scheme;
    return typeof matchMedia === 'function' && matchMedia(DARK).matches ? 'dark' : 'light';
  }
}
