// Failures that concern the whole dashboard (the session, the filters, the network) are said once,
// in a banner above the tiles, in words that fit the cause, with the one action that can help.
// Failures of one widget stay on its tile.

import { h, icon, icons } from './dom';
import type { ApiError, Filter } from './types';

export type BannerAction = 'retry' | 'reload' | 'reset';

export interface Cause {
  kind: 'session' | 'access' | 'filter' | 'network' | 'server';
  title: string;
  text: string;
  action: BannerAction;
}

/** The HTTP status a run failed with (0: no answer) and the API's error, in the viewer's words. */
export function causeOf(status: number, e: ApiError, filters: Filter[] = []): Cause {
  const reason = typeof e.details?.reason === 'string' ? e.details.reason : '';
  if (e.code === 'invalid_filter' || e.code === 'unknown_filter') {
    const name = typeof e.details?.filter === 'string' ? e.details.filter : '';
    const f = filters.find((x) => x.name === name);
    const label = f ? f.title || f.name : name;
    return {
      kind: 'filter',
      title: label ? `The filter “${label}” has a value that cannot be used` : 'A filter has a value that cannot be used',
      text: `${sentence(e.message)} The tiles show the data from before this change.`,
      action: 'reset',
    };
  }
  if (e.code === 'session_expired') {
    // A Looker embed session that ended or expired: only a new sign-in in the host helps.
    return {
      kind: 'session',
      title: 'Your session has ended',
      text: 'Sign in again in the application that shows this dashboard, then reload.',
      action: 'reload',
    };
  }
  if (e.code === 'token_unavailable' || (status === 401 && reason === 'expired')) {
    return {
      kind: 'session',
      title: 'Your session has expired',
      text: 'The page could not renew it. Retry once you are signed in again.',
      action: 'retry',
    };
  }
  if (status === 401 || e.code === 'invalid_token') {
    return {
      kind: 'session',
      title: 'This dashboard session is not valid',
      text: 'The page gave the dashboard a session it cannot use. Reload to start a new one; if this keeps happening, tell the site’s administrator.',
      action: 'reload',
    };
  }
  if (status === 403 || e.code === 'forbidden') {
    return {
      kind: 'access',
      title: reason === 'other_dashboard' ? 'This session was issued for another dashboard' : 'You do not have access to this dashboard',
      text: 'Reload the page; if this keeps happening, tell the site’s administrator.',
      action: 'reload',
    };
  }
  if (status === 0 || e.code === 'network_error') {
    return { kind: 'network', title: 'Inlay could not be reached', text: 'Check your connection, then retry.', action: 'retry' };
  }
  if (e.code === 'datasource_unavailable') {
    return { kind: 'server', title: 'The data source cannot be reached right now', text: 'Try again in a moment.', action: 'retry' };
  }
  if (e.code === 'query_timeout') {
    return { kind: 'server', title: 'The dashboard took too long to answer', text: 'Try again, or narrow the filters.', action: 'retry' };
  }
  return { kind: 'server', title: 'The dashboard could not be updated', text: 'Something went wrong on the server. Try again in a moment.', action: 'retry' };
}

const actionLabel: Record<BannerAction, string> = { retry: 'Retry', reload: 'Reload', reset: 'Reset filters' };

/** The banner element: hidden until show(); one at a time. */
export class Banner {
  readonly el: HTMLElement;

  constructor(private act: (a: BannerAction) => void) {
    this.el = h('div', { class: 'banner', role: 'alert', hidden: true });
  }

  show(c: Cause, code: string): void {
    this.el.dataset.kind = c.kind;
    this.el.dataset.code = code;
    this.el.replaceChildren(
      h('span', { class: 'banner-icon' }, icon(icons.alert)),
      h('div', { class: 'banner-body' }, h('p', { class: 'banner-title' }, c.title), h('p', { class: 'banner-text' }, c.text)),
      h('button', { type: 'button', class: 'btn banner-action', 'data-action': c.action, onclick: () => this.act(c.action) }, actionLabel[c.action]),
    );
    this.el.hidden = false;
  }

  hide(): void {
    this.el.hidden = true;
    this.el.replaceChildren();
    delete this.el.dataset.kind;
    delete this.el.dataset.code;
  }

  get shown(): boolean {
    return !this.el.hidden;
  }
}

function sentence(s: string): string {
  const t = (s || '').trim();
  if (!t) return '';
  const cap = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(cap) ? cap : `${cap}.`;
}
