import { afterEach, describe, expect, test, vi } from 'vitest';
import { InlayDashboard, InlayEmbedError } from '../src/index';
import type { InlayDashboardOptions } from '../src/index';
import { makeToken } from './jwt-helper';

const INSTANCE = 'http://127.0.0.1:8470';

// Client-side (iframe) chatty action numbers, and the host's.
const C = { Syn: 0, Ack: 1, Message: 2, MessageWithResponse: 3 };
const H = { SynAck: 0, Message: 1, Response: 3, ResponseError: 4 };

/**
 * A stand-in for the viewer page: speaks the chatty client protocol to the SDK over a real
 * MessageChannel, pretending to be the iframe's window at the given origin.
 */
class FakeViewer {
  readonly received: Array<{ eventName: string; payload: unknown[] }> = [];
  private port!: MessagePort;
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  async connect(iframe: HTMLIFrameElement, origin = INSTANCE, source: unknown = iframe.contentWindow) {
    const ch = new MessageChannel();
    this.port = ch.port1;
    const synAck = new Promise<void>((resolve) => {
      this.port.onmessage = (e: MessageEvent) => {
        const { action, data } = e.data;
        if (action === H.SynAck) resolve();
        else if (action === H.Message) this.received.push(data);
        else if (action === H.Response || action === H.ResponseError) {
          const p = this.pending.get(data.sequence);
          this.pending.delete(data.sequence);
          if (action === H.Response) p?.resolve(data.payload);
          else p?.reject(data.payload);
        }
      };
    });
    const ev = new Event('message');
    Object.defineProperties(ev, {
      data: { value: { action: C.Syn } },
      origin: { value: origin },
      source: { value: source },
      ports: { value: [ch.port2] },
    });
    window.dispatchEvent(ev);
    await Promise.race([synAck, new Promise((r) => setTimeout(r, 100))]);
    this.port.postMessage({ action: C.Ack });
    await tick();
  }

  send(eventName: string, payload: unknown) {
    this.port.postMessage({ action: C.Message, data: { eventName, payload: [payload] } });
  }

  ask(eventName: string, payload: unknown): Promise<unknown> {
    const sequence = ++this.seq;
    const p = new Promise((resolve, reject) => this.pending.set(sequence, { resolve, reject }));
    this.port.postMessage({ action: C.MessageWithResponse, data: { eventName, payload: [payload], sequence } });
    return p;
  }

  close() {
    this.port?.close();
  }
}

/** Lets MessagePort deliveries (macrotasks) happen. */
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

let cleanup: Array<() => void> = [];
afterEach(() => {
  cleanup.forEach((f) => f());
  cleanup = [];
  document.body.innerHTML = '';
});

function make(over: Partial<InlayDashboardOptions> = {}) {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const getNewToken = vi.fn(async () => makeToken(Date.now() / 1000, 3600, { n: 'fresh' }));
  const onError = vi.fn();
  const d = new InlayDashboard({
    instanceUrl: INSTANCE,
    dashboardId: 'sales',
    token: makeToken(Date.now() / 1000, 3600),
    container,
    getNewToken,
    onError,
    ...over,
  });
  const viewer = new FakeViewer();
  cleanup.push(() => {
    d.destroy();
    viewer.close();
  });
  return { d, container, viewer, getNewToken, onError };
}

/** Initializes, connects the fake viewer and reports dashboard:loaded. */
async function loaded(over: Partial<InlayDashboardOptions> = {}) {
  const m = make(over);
  const init = m.d.initialize();
  await m.viewer.connect(m.d.iframe!);
  m.viewer.send('dashboard:loaded', { dashboard: { id: 'sales', title: 'Sales', dashboard_filters: {} } });
  await init;
  return m;
}

describe('options', () => {
  test.each([
    { name: 'no instanceUrl', over: { instanceUrl: 'not a url' }, want: /instanceUrl/ },
    { name: 'no dashboardId', over: { dashboardId: '' }, want: /dashboardId/ },
    { name: 'no token', over: { token: '' }, want: /token is required/ },
    { name: 'no getNewToken', over: { getNewToken: undefined as never }, want: /getNewToken/ },
    { name: 'container not an element', over: { container: '#dash' as never }, want: /container/ },
    { name: 'negative margin', over: { refreshMarginSeconds: -1 }, want: /refreshMarginSeconds/ },
  ])('$name rejects with invalid_options', async ({ over, want }) => {
    const { d } = make(over as Partial<InlayDashboardOptions>);
    const err = await d.initialize().catch((e) => e);
    expect(err).toBeInstanceOf(InlayEmbedError);
    expect(err.code).toBe('invalid_options');
    expect(err.message).toMatch(want);
    expect(d.iframe).toBeUndefined();
  });
});

describe('iframe', () => {
  test('points at the viewer with embed_domain and theme, allows fullscreen, full width', () => {
    const { d, container } = make({ theme: 'dark', className: 'dash-frame' });
    d.initialize().catch(() => {});
    const iframe = container.querySelector('iframe')!;
    const url = new URL(iframe.src);
    expect(url.origin + url.pathname).toBe(`${INSTANCE}/embed/dashboards/sales`);
    expect(url.searchParams.get('embed_domain')).toBe(window.location.origin);
    expect(url.searchParams.get('theme')).toBe('dark');
    expect(iframe.getAttribute('allow')).toBe('fullscreen');
    expect(iframe.style.width).toBe('100%');
    expect(iframe.className).toBe('dash-frame');
  });

  test('height follows content both ways and ignores non-positive heights', async () => {
    const { d, viewer } = await loaded();
    const iframe = d.iframe!;
    for (const [h, want] of [
      [900, '900px'],
      [350, '350px'],
      [0, '350px'],
      [-10, '350px'],
      [1200.4, '1201px'],
    ] as const) {
      viewer.send('page:properties:changed', { height: h });
      await tick();
      expect(iframe.style.height).toBe(want);
    }
  });

  test('autoResize false leaves the height alone', async () => {
    const { d, viewer } = await loaded({ autoResize: false });
    viewer.send('page:properties:changed', { height: 900 });
    await tick();
    expect(d.iframe!.style.height).toBe('');
  });
});

describe('handshake', () => {
  test('a handshake from another origin is ignored and initialize times out', async () => {
    const { d, viewer, onError } = make({ loadTimeoutMs: 150 });
    const init = d.initialize().catch((e) => e);
    await viewer.connect(d.iframe!, 'http://evil.example');
    viewer.send('dashboard:loaded', { dashboard: { id: 'sales' } });
    const err = await init;
    expect(err.code).toBe('load_timeout');
    expect(onError).toHaveBeenCalledWith(err);
  });

  test('a handshake from a window that is not the iframe is ignored', async () => {
    const { d, viewer } = make({ loadTimeoutMs: 150 });
    const init = d.initialize().catch((e) => e);
    await viewer.connect(d.iframe!, INSTANCE, window);
    viewer.send('dashboard:loaded', { dashboard: { id: 'sales' } });
    expect((await init).code).toBe('load_timeout');
  });

  test('dashboard:error before loading rejects with load_failed and the viewer code', async () => {
    const { d, viewer } = make();
    const init = d.initialize().catch((e) => e);
    await viewer.connect(d.iframe!);
    viewer.send('dashboard:error', { code: 'invalid_token', message: 'token expired' });
    const err = await init;
    expect(err.code).toBe('load_failed');
    expect(err.details).toEqual({ viewerCode: 'invalid_token' });
  });
});

describe('messages', () => {
  test('events reach on() handlers until unsubscribed', async () => {
    const { d, viewer } = await loaded();
    const seen: unknown[] = [];
    const off = d.on('dashboard:run:complete', (e) => seen.push(e.status));
    viewer.send('dashboard:run:complete', { status: 'complete', tileStatuses: [] });
    await tick();
    off();
    viewer.send('dashboard:run:complete', { status: 'error', tileStatuses: [] });
    await tick();
    expect(seen).toEqual(['complete']);
  });

  test('initial filters and theme overrides come with the first token answer, not as actions after load', async () => {
    const theme = { mode: 'light' as const, colors: { primary: '#6d28d9' } };
    const token = makeToken(Date.now() / 1000, 3600);
    const m = make({ token, filters: { region: ['East'] }, theme });
    const init = m.d.initialize();
    await m.viewer.connect(m.d.iframe!);
    expect(await m.viewer.ask('session:token:request', { reason: 'initial' })).toEqual([{ token, filters: { region: ['East'] }, theme }]);
    // Later answers carry the token alone.
    expect(await m.viewer.ask('session:token:request', { reason: 'expiring' })).toEqual([{ token }]);
    m.viewer.send('dashboard:loaded', { dashboard: { id: 'sales', title: 'Sales', dashboard_filters: { region: ['East'] } } });
    await init;
    await tick();
    expect(m.viewer.received).toEqual([]);
  });

  test('actions are sent as chatty messages', async () => {
    const { d, viewer } = await loaded();
    await d.setFilters({ product: 'Widget' });
    await d.run();
    await d.setTheme('dark');
    await tick();
    expect(viewer.received).toEqual([
      { eventName: 'dashboard:filters:update', payload: [{ filters: { product: 'Widget' } }] },
      { eventName: 'dashboard:run', payload: [] },
      { eventName: 'dashboard:theme:set', payload: [{ theme: 'dark' }] },
    ]);
  });

  test('actions before initialize reject with not_initialized', async () => {
    const { d } = make();
    await expect(d.run()).rejects.toMatchObject({ code: 'not_initialized' });
  });
});

describe('tokens', () => {
  test('a token request gets the current token while it is fresh', async () => {
    const token = makeToken(Date.now() / 1000, 3600);
    const { viewer, getNewToken } = await loaded({ token });
    expect(await viewer.ask('session:token:request', { reason: 'initial' })).toEqual([{ token }]);
    expect(getNewToken).not.toHaveBeenCalled();
  });

  test.each([
    { name: 'viewer says expired', reason: 'expired', iatAgo: 0, lifetime: 3600 },
    { name: 'token already past its refresh time', reason: 'expiring', iatAgo: 3500, lifetime: 3600 },
    { name: 'token expired by the clock', reason: 'initial', iatAgo: 4000, lifetime: 3600 },
  ])('$name: getNewToken is called and its token returned', async ({ reason, iatAgo, lifetime }) => {
    const { viewer, getNewToken } = await loaded({ token: makeToken(Date.now() / 1000 - iatAgo, lifetime) });
    const [answer] = (await viewer.ask('session:token:request', { reason })) as Array<{ token: string }>;
    expect(getNewToken).toHaveBeenCalledTimes(1);
    expect(answer.token).toBe(await getNewToken.mock.results[0].value);
  });

  test('scheduled refreshes push session:token to the frame', async () => {
    // A 2.5 s token: margin capped at 1.25 s, so the refresh is due after ~1.25 s.
    const getNewToken = vi.fn(async () => makeToken(Date.now() / 1000, 3600, { n: 2 }));
    const { viewer } = await loaded({ token: makeToken(Date.now() / 1000, 2.5), getNewToken });
    await vi.waitFor(() => expect(getNewToken).toHaveBeenCalledTimes(1), { timeout: 3000 });
    await tick();
    expect(viewer.received).toContainEqual({
      eventName: 'session:token',
      payload: [{ token: await getNewToken.mock.results[0].value }],
    });
  });

  test('a failing getNewToken is reported to onError and does not break the dashboard', async () => {
    const getNewToken = vi.fn(async () => {
      throw new Error('backend 502');
    });
    const { d, viewer, onError } = await loaded({ getNewToken });
    const err = await viewer.ask('session:token:request', { reason: 'expired' }).catch((e) => e);
    expect(String(err)).toMatch(/backend 502/);
    expect(onError.mock.calls[0][0].code).toBe('token_refresh_failed');
    await expect(d.run()).resolves.toBeUndefined();
  });
});

describe('destroy', () => {
  test('removes the iframe, rejects a pending initialize and every later call with destroyed', async () => {
    const { d, container } = make();
    const init = d.initialize().catch((e) => e);
    expect(container.querySelector('iframe')).not.toBeNull();
    d.destroy();
    expect((await init).code).toBe('destroyed');
    expect(container.querySelector('iframe')).toBeNull();
    for (const call of [() => d.initialize(), () => d.run(), () => d.setFilters({}), () => d.setTheme('dark')]) {
      await expect(call()).rejects.toMatchObject({ code: 'destroyed' });
    }
  });

  test('stops the refresh timers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const { d, getNewToken } = make({ token: makeToken(Date.now() / 1000, 10) });
      d.initialize().catch(() => {});
      d.destroy();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(getNewToken).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
