import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { InlayEmbedError } from '../src/errors';
import { TokenRefresher, backoffDelay, effectiveMarginSeconds } from '../src/refresher';
import { makeToken } from './jwt-helper';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

/** A refresher whose getNewToken is scripted; records the clock at every call. */
function setup(opts: { lifetimeSec: number; marginSeconds?: number; results?: Array<string | Error> }) {
  const calls: number[] = [];
  const errors: Array<{ err: InlayEmbedError; attempt: number; retryInMs: number }> = [];
  const tokens: string[] = [];
  const results = [...(opts.results ?? [])];
  const getNewToken = vi.fn(async () => {
    calls.push(Date.now() - T0);
    const next = results.shift() ?? new Error('backend down');
    if (next instanceof Error) throw next;
    return next;
  });
  const r = new TokenRefresher({
    token: makeToken(T0 / 1000, opts.lifetimeSec),
    getNewToken,
    marginSeconds: opts.marginSeconds ?? 300,
    onToken: (t) => tokens.push(t),
    onError: (err, attempt, retryInMs) => errors.push({ err, attempt, retryInMs }),
    random: () => 0, // no jitter: exact schedule
  });
  return { r, calls, errors, tokens, getNewToken };
}

describe('effectiveMarginSeconds', () => {
  test.each([
    { name: 'long token keeps the configured margin', iat: 0, exp: 3600, margin: 300, want: 300 },
    { name: 'short token: half its lifetime', iat: 0, exp: 10, margin: 300, want: 5 },
    { name: 'no iat: lifetime measured from now', exp: 100, now: 60, margin: 300, want: 20 },
    { name: 'zero margin', iat: 0, exp: 3600, margin: 0, want: 0 },
  ])('$name', ({ iat, exp, now, margin, want }) => {
    expect(effectiveMarginSeconds({ exp, iat }, margin, now ?? 0)).toBe(want);
  });
});

describe('backoffDelay', () => {
  test('doubles from 1 s and caps at 60 s', () => {
    const seq = Array.from({ length: 9 }, (_, i) => backoffDelay(i, () => 0));
    expect(seq).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });
  test('jitter only shortens, by at most 20%', () => {
    expect(backoffDelay(3, () => 0.999)).toBeGreaterThanOrEqual(6400);
    expect(backoffDelay(10, () => 0.5)).toBe(54000);
  });
});

describe('TokenRefresher', () => {
  test('refreshes at exp minus the margin, not before', async () => {
    const next = makeToken(T0 / 1000 + 3300, 3600);
    const { r, calls, tokens } = setup({ lifetimeSec: 3600, results: [next] });
    r.start();
    await vi.advanceTimersByTimeAsync(3300_000 - 1);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([3300_000]);
    expect(tokens).toEqual([next]);
    expect(r.current).toBe(next);
    r.stop();
  });

  test('a short-lived token is refreshed at half its lifetime, over and over', async () => {
    const { r, calls } = setup({
      lifetimeSec: 10,
      results: [makeToken(T0 / 1000 + 5, 10), makeToken(T0 / 1000 + 10, 10), makeToken(T0 / 1000 + 15, 10)],
    });
    r.start();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(calls).toEqual([5000, 10000, 15000]);
    r.stop();
  });

  test('failures retry with backoff 1, 2, 4 ... 60 s and never stop; success resets the backoff', async () => {
    const recovered = makeToken(T0 / 1000 + 3543, 3600) // issued when it is fetched;
    const fails = Array.from({ length: 9 }, () => new Error('502'));
    const { r, calls, errors, tokens } = setup({ lifetimeSec: 3600, results: [...fails, recovered] });
    r.start();
    // 9 failures: at 3300 s, then +1, +2, +4, +8, +16, +32, +60, +60 s; the 10th call succeeds.
    await vi.advanceTimersByTimeAsync((3300 + 1 + 2 + 4 + 8 + 16 + 32 + 60 + 60 + 60) * 1000);
    const gaps = calls.slice(1).map((t, i) => (t - calls[i]) / 1000);
    expect(calls[0]).toBe(3300_000);
    expect(gaps).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    expect(errors.map((e) => e.err.code)).toEqual(Array(9).fill('token_refresh_failed'));
    expect(errors.map((e) => e.attempt)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(tokens).toEqual([recovered]);
    // Next refresh is scheduled from the new token's exp, not from the backoff.
    const before = calls.length;
    await vi.advanceTimersByTimeAsync(3000 * 1000);
    expect(calls.length).toBe(before);
    await vi.advanceTimersByTimeAsync(300 * 1000);
    expect(calls.length).toBe(before + 1);
    r.stop();
  });

  test('a getNewToken that returns no string counts as a failure and is retried', async () => {
    const { r, calls, errors } = setup({ lifetimeSec: 10, results: ['' as string] });
    r.start();
    await vi.advanceTimersByTimeAsync(5000 + 1000);
    expect(calls).toEqual([5000, 6000]);
    expect(errors[0].err.message).toMatch(/non-empty string/);
    r.stop();
  });

  test('stop() cancels the schedule and pending retries', async () => {
    const { r, getNewToken } = setup({ lifetimeSec: 10 });
    r.start();
    await vi.advanceTimersByTimeAsync(5000); // first (failing) attempt
    expect(getNewToken).toHaveBeenCalledTimes(1);
    r.stop();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(getNewToken).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('concurrent refreshes share one getNewToken call', async () => {
    const next = makeToken(T0 / 1000, 3600);
    const { r, getNewToken } = setup({ lifetimeSec: 3600, results: [next] });
    const [a, b] = await Promise.all([r.refresh(), r.refresh()]);
    expect(a).toBe(next);
    expect(b).toBe(next);
    expect(getNewToken).toHaveBeenCalledTimes(1);
    r.stop();
  });
});
