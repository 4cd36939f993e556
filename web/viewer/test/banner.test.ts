import { describe, expect, it } from 'vitest';
import { causeOf } from '../src/banner';
import { inverted } from '../src/filters';
import type { Filter } from '../src/types';

const filters: Filter[] = [{ name: 'amount', title: 'Order amount', type: 'numeric_range' }];

describe('causeOf: one wording per cause of a failed run', () => {
  it('names the filter the server refused, by its title, and offers a reset', () => {
    const c = causeOf(400, { code: 'invalid_filter', message: 'filter "amount": min is above max', details: { filter: 'amount' } }, filters);
    expect(c.kind).toBe('filter');
    expect(c.title).toContain('“Order amount”');
    expect(c.text).toContain('min is above max');
    expect(c.action).toBe('reset');
  });
  it('an expired session is not an invalid one', () => {
    const expired = causeOf(401, { code: 'invalid_token', message: 'x', details: { reason: 'expired' } });
    const garbage = causeOf(401, { code: 'invalid_token', message: 'x', details: { reason: 'malformed' } });
    expect(expired.title).toMatch(/expired/);
    expect(expired.action).toBe('retry');
    expect(garbage.title).not.toMatch(/expired|ended/);
    expect(garbage.title).toMatch(/not valid/);
    expect(garbage.action).toBe('reload');
  });
  it('a token for another dashboard says so, not "access to this widget"', () => {
    const c = causeOf(403, { code: 'forbidden', message: 'x', details: { reason: 'other_dashboard' } });
    expect(c.title).toMatch(/another dashboard/);
    expect(c.title).not.toMatch(/widget/);
  });
  it('no answer at all is a network failure with Retry', () => {
    const c = causeOf(0, { code: 'network_error', message: 'x' });
    expect(c.kind).toBe('network');
    expect(c.action).toBe('retry');
  });
});

describe('inverted ranges are caught at the input, naming the filter', () => {
  it.each([
    ['3000', '2000', 'number', 'Order amount: the minimum (3000) is above the maximum (2000).'],
    ['20', '100', 'number', undefined],
    ['', '100', 'number', undefined],
    ['2025-03-10', '2025-03-01', 'date', 'Order amount: the end (2025-03-01) is before the start (2025-03-10).'],
    ['2025-03-01', '2025-03-01', 'date', undefined],
  ] as const)('%s .. %s (%s)', (lo, hi, kind, want) => {
    expect(inverted('Order amount', lo, hi, kind)).toBe(want);
  });
});
