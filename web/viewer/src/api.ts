// The embed API client (docs/api.md). Every call carries the in-memory bearer token; a 401 with
// details.reason "expired" asks the host for a new token and retries once.

import type { ApiError, DashboardResponse, FilterValue, QueryResponse } from './types';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: ApiError,
  ) {
    super(error.message);
  }
}

/** Tables a page at a time: page_size for every table, or a page per named table. */
export interface Paging {
  page_size?: number;
  pages?: Record<string, { offset: number; limit: number; sort?: string; desc?: boolean }>;
  /** With no widgets named: run only this dashboard page's widgets ("" or unknown: the first page). */
  tab?: string;
}

export interface TokenSource {
  /** The bearer token; "" sends no Authorization header (a cookie session). */
  current(): string;
  /** Asks the host for a new token (reason "expired") and resolves with it. */
  renew(used?: string): Promise<string>;
  /** Whether a 401 asks for a new token and retries once (default: details.reason "expired"). */
  renewable?(error: ApiError): boolean;
  /** Called with a 401 that is not retried (Looker mode: the session may have ended). */
  refused?(error: ApiError): void;
}

export interface ApiOptions {
  /** "include" sends Inlay's cookies (Looker signed-URL sessions); default "omit". */
  credentials?: RequestCredentials;
}

export class Api {
  constructor(
    private base: string,
    /** The dashboard the calls are about (Looker mode loads another one in place). */
    public dashboardId: string,
    private tokens: TokenSource,
    private opts: ApiOptions = {},
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  private url(path: string): string {
    return `${this.base}/api/v1/embed/dashboards/${encodeURIComponent(this.dashboardId)}${path}`;
  }

  private async call(path: string, init: RequestInit, retried = false): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = this.tokens.current();
    if (token) headers.set('Authorization', `Bearer ${token}`);
    let res: Response;
    try {
      // credentials 'omit' unless configured: in Inlay mode the viewer never uses cookies.
      res = await fetch(this.url(path), { ...init, headers, credentials: this.opts.credentials ?? 'omit', cache: 'no-store' });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiFailure(0, { code: 'network_error', message: 'Inlay could not be reached. Check your connection.' });
    }
    if (res.ok) return res;
    const error = await readError(res);
    const renewable = this.tokens.renewable ? this.tokens.renewable(error) : error.details?.reason === 'expired';
    if (res.status === 401 && renewable && !retried) {
      try {
        await this.tokens.renew(token);
      } catch {
        throw new ApiFailure(401, { ...error, message: 'The session expired and the host page did not provide a new token.' });
      }
      return this.call(path, init, true);
    }
    if (res.status === 401) this.tokens.refused?.(error);
    throw new ApiFailure(res.status, error);
  }

  async dashboard(signal?: AbortSignal): Promise<DashboardResponse> {
    const res = await this.call('', { method: 'GET', signal });
    return res.json();
  }

  /**
   * Runs widgets (undefined: all of them). With defaults, the server starts from the
   * dashboard's filter defaults and applies these filters on top.
   */
  async query(widgets: string[] | undefined, filters: Record<string, unknown>, signal?: AbortSignal, defaults = false, paging?: Paging): Promise<QueryResponse> {
    const res = await this.call('/query', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ widgets, filters, ...(defaults ? { defaults } : {}), ...paging }),
      signal,
    });
    return res.json();
  }

  /** The OAuth integrations the dashboard's data sources need, and whether this viewer has connected each. */
  async oauth(): Promise<{ integrations: import('./connect').OAuthNeed[] }> {
    const res = await this.call('/oauth', { method: 'GET' });
    return res.json();
  }

  /** The widget's data as an Excel workbook (number formats from the dashboard). */
  async exportXLSX(widget: string, filters: Record<string, FilterValue>): Promise<Blob> {
    const res = await this.call(`/widgets/${encodeURIComponent(widget)}/export?format=xlsx`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ filters }),
    });
    return res.blob();
  }

  async exportCSV(widget: string, filters: Record<string, FilterValue>): Promise<Blob> {
    const res = await this.call(`/widgets/${encodeURIComponent(widget)}/export`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/csv' },
      body: JSON.stringify({ filters }),
    });
    return res.blob();
  }
}

async function readError(res: Response): Promise<ApiError> {
  try {
    const body = await res.json();
    if (body && typeof body.error === 'object' && typeof body.error.code === 'string') return body.error;
  } catch {
    // not JSON: fall through
  }
  return { code: res.status === 401 ? 'invalid_token' : 'internal', message: `The server answered ${res.status}.` };
}
