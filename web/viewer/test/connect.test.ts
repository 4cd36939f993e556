import { describe, expect, it } from 'vitest';
import { needsLogin, platformName } from '../src/connect';

describe('connecting an account (OAuth integrations)', () => {
  it('asks the viewer to log in only for the broker’s login codes', () => {
    expect(needsLogin({ code: 'login_required', message: '' })).toBe(true);
    expect(needsLogin({ code: 'refresh_failed', message: '' })).toBe(true);
    expect(needsLogin({ code: 'invalid_token', message: '' })).toBe(false);
    expect(needsLogin(undefined)).toBe(false);
  });
  it('names Databricks by its template, other providers by the integration', () => {
    expect(platformName({ guid: 'g', name: 'dbx-prod', template: 'databricks', connected: false })).toBe('Databricks');
    expect(platformName({ guid: 'g', name: 'Snowflake', template: 'custom', connected: false })).toBe('Snowflake');
  });
});
