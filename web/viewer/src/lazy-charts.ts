// ECharts is most of the viewer's JavaScript, so it is a chunk of its own. Loading starts at
// boot, and the token handshake and the first API calls go out while it downloads and parses;
// charts are drawn once it is there.

type Charts = typeof import('./charts');

let loaded: Charts | undefined;
let loading: Promise<Charts> | undefined;

/** Loads the charts chunk (once; a failed load is tried again on the next call). */
export function loadCharts(): Promise<Charts> {
  loading ??= import('./charts').then(
    (m) => (loaded = m),
    (err) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

/** The charts module; only call it after loadCharts() has resolved. */
export function charts(): Charts {
  if (!loaded) throw new Error('the charts chunk is not loaded yet');
  return loaded;
}

/** Widget types drawn with ECharts. */
export const chartTypes: ReadonlySet<string> = new Set(['bar', 'line', 'area', 'pie']);
