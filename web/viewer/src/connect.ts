// Connecting the viewer's own account of a data platform (an OAuth integration): when a
// dashboard's data source runs with each viewer's credentials and this viewer has not logged in
// (or must log in again), the viewer shows "Connect your Databricks account"; the button opens
// Inlay's login in a popup (a user gesture, so popup blockers allow it), and the popup's last
// page tells this window, which then runs the dashboard.

import { h, icon, icons } from './dom';
import type { ApiError } from './types';

/** One integration the dashboard needs, as GET .../oauth returns it. */
export interface OAuthNeed {
  guid: string;
  name: string;
  template: string;
  connected: boolean;
  login_url?: string;
}

/** Error codes that mean the viewer must log in to an integration. */
export function needsLogin(e: ApiError | undefined): boolean {
  return !!e && (e.code === 'login_required' || e.code === 'refresh_failed');
}

/** The platform's name for the prompt: "Databricks" for that template, else the integration's. */
export function platformName(n: OAuthNeed): string {
  return n.template === 'databricks' ? 'Databricks' : n.name;
}

/**
 * Renders the prompt for the integrations not connected and resolves once the viewer has
 * connected all of them (the popup reports each login to this window).
 */
export function connectPrompt(needs: OAuthNeed[], again: boolean): { el: HTMLElement; done: Promise<void> } {
  const pending = new Map(needs.filter((n) => !n.connected && n.login_url).map((n) => [n.guid, n]));
  const status = h('p', { class: 'state-text connect-status', role: 'status', 'aria-live': 'polite' });
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const onMessage = (ev: MessageEvent) => {
    const m = ev.data;
    if (ev.origin !== location.origin || !m || m.type !== 'inlay:oauth') return;
    if (m.status === 'connected') {
      pending.delete(String(m.integration));
      buttons.get(String(m.integration))?.remove();
      if (pending.size === 0) {
        window.removeEventListener('message', onMessage);
        status.textContent = 'Connected. Loading…';
        resolve();
      }
    } else {
      status.textContent = `The login did not complete (${String(m.code || 'error')}). Try again.`;
    }
  };
  window.addEventListener('message', onMessage);
  const buttons = new Map<string, HTMLElement>();
  for (const n of pending.values()) {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'connect-btn',
        onclick: () => {
          const w = window.open(n.login_url!, 'inlay-oauth-' + n.guid, 'popup,width=520,height=680');
          status.textContent = w ? `Finish logging in to ${platformName(n)} in the window that opened.` : 'The browser blocked the login window: allow pop-ups for this page.';
        },
      },
      `Connect your ${platformName(n)} account`,
    );
    buttons.set(n.guid, b);
  }
  const names = [...pending.values()].map(platformName).join(', ');
  const el = h(
    'div',
    { class: 'state state--connect page-state', role: 'region', 'aria-label': 'Connect your account' },
    h('span', { class: 'state-icon' }, icon(icons.alert)),
    h('p', { class: 'state-title' }, again ? `Log in to ${names} again` : `This dashboard uses your own ${names} account`),
    h('p', { class: 'state-text' }, again ? 'Your session has ended.' : 'Its data is queried with your permissions. Connect once; Inlay keeps you connected.'),
    h('div', { class: 'connect-actions' }, [...buttons.values()]),
    status,
  );
  if (pending.size === 0) resolve();
  return { el, done };
}
