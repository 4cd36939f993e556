import { afterEach, describe, expect, test, vi } from 'vitest';
import { DatabricksDashboard, InlayEmbedError } from '../src/index';
import { makeToken } from './jwt-helper';

const INSTANCE = 'http://127.0.0.1:8470';

function setScheme(dark: boolean) {
  vi.stubGlobal('matchMedia', (q: string) => ({
    matches: dark && q.includes('dark'),
    media: q,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.replaceChildren();
});

describe('DatabricksDashboard (the AI/BI client’s options)', () => {
  test('takes exactly the documented options; workspaceId is ignored, pageId and colorScheme reach the viewer', async () => {
    setScheme(true);
    const container = document.createElement('div');
    document.body.append(container);
    const d = new DatabricksDashboard({
      instanceUrl: INSTANCE,
      workspaceId: '1234567890',
      dashboardId: 'sales',
      token: makeToken(Math.floor(Date.now() / 1000), 3600),
      container,
      getNewToken: async () => 'next',
      pageId: 'details',
      colorScheme: 'light dark',
      config: { somethingDatabricksOnly: true },
    });
    const init = d.initialize();
    init.catch(() => undefined);
    const iframe = container.querySelector('iframe');
    expect(iframe).not.toBeNull();
    const src = new URL(iframe!.src);
    expect(src.origin).toBe(INSTANCE);
    expect(src.pathname).toBe('/embed/dashboards/sales');
    expect(src.searchParams.get('page')).toBe('details');
    expect(src.searchParams.get('theme')).toBe('dark'); // "light dark" follows the system: dark here
    expect(src.search).not.toContain('1234567890');
    d.destroy();
    await expect(init).rejects.toMatchObject({ code: 'destroyed' });
    expect(container.querySelector('iframe')).toBeNull();
  });

  test('colorScheme light in a dark system stays light', async () => {
    setScheme(true);
    const container = document.createElement('div');
    const d = new DatabricksDashboard({ instanceUrl: INSTANCE, dashboardId: 'sales', token: 't', container, colorScheme: 'light' });
    d.initialize().catch(() => undefined);
    expect(new URL(container.querySelector('iframe')!.src).searchParams.get('theme')).toBe('light');
    d.destroy();
  });

  test('an unknown colorScheme is refused with invalid_options', () => {
    const container = document.createElement('div');
    expect(
      () => new DatabricksDashboard({ instanceUrl: INSTANCE, dashboardId: 'sales', token: 't', container, colorScheme: 'sepia' as 'light' }),
    ).toThrow(InlayEmbedError);
  });
});
