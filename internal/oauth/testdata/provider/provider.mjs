// A real OpenID provider (panva/oidc-provider) for Inlay's OAuth tests, on 127.0.0.1 at a free
// port. It prints one JSON line, {"issuer": "..."}, once it is listening, and serves until its
// standard input closes (so it dies with the test process that started it).
//
// Environment:
//   REDIRECT_URIS       comma-separated redirect URIs registered for every client (required)
//   ACCESS_TOKEN_TTL    access-token lifetime in seconds (default 3600)
//   ROTATE              "0" turns refresh-token rotation off (default on)
//
// Clients: "inlay-confidential" (secret "confidential-secret", client_secret_basic),
// "inlay-post" (secret "post-secret", client_secret_post), "inlay-public" (no secret, PKCE),
// "inlay-service" (secret "service-secret", client credentials only).
//
// Besides the provider's own routes: GET /__test/stats gives counts of token-endpoint grants by
// grant type and client ({"refresh_token": {"inlay-confidential": 1}, ...}); GET
// /__test/refresh-token?sub=alice gives the newest refresh token issued to an account.
//
// The development interactions are on: any login and password are accepted by posting the
// login form, then the consent form.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

// The signing key is made before the package loads (generating one synchronously right after
// loading it has been seen to hang on Node 20).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

const { default: Provider } = await import('oidc-provider');

const redirectURIs = (process.env.REDIRECT_URIS || '').split(',').filter(Boolean);
if (redirectURIs.length === 0) {
  console.error('REDIRECT_URIS is required');
  process.exit(2);
}
const accessTTL = Number(process.env.ACCESS_TOKEN_TTL || 3600);
const rotate = process.env.ROTATE !== '0';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const stats = {};
const codeClient = (extra) => ({
  redirect_uris: redirectURIs,
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  ...extra,
});

const provider = new Provider(issuer, {
  clients: [
    codeClient({ client_id: 'inlay-confidential', client_secret: 'confidential-secret', token_endpoint_auth_method: 'client_secret_basic' }),
    codeClient({ client_id: 'inlay-post', client_secret: 'post-secret', token_endpoint_auth_method: 'client_secret_post' }),
    codeClient({ client_id: 'inlay-public', token_endpoint_auth_method: 'none' }),
    {
      client_id: 'inlay-service', client_secret: 'service-secret', token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    },
  ],
  jwks: { keys: [jwk] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'all-apis', 'sql'],
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: `${sub}@example.com`, name: sub }) }),
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
  },
  // PKCE for every client, confidential ones too (RFC 9700).
  pkce: { required: () => true },
  rotateRefreshToken: () => rotate,
  ttl: {
    AccessToken: accessTTL,
    ClientCredentials: accessTTL,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 14 * 24 * 3600,
  },
  cookies: { keys: ['test-cookie-key'] },
});

provider.on('grant.success', (ctx) => {
  const gt = ctx.oidc.params.grant_type;
  const cid = ctx.oidc.client?.clientId || '?';
  stats[gt] ??= {};
  stats[gt][cid] = (stats[gt][cid] || 0) + 1;
});
// The newest refresh token of each account, so a test can revoke it as its provider admin would.
const lastRefresh = {};
provider.on('refresh_token.saved', (t) => { lastRefresh[t.accountId] = t.jti; });
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url === '/__test/stats') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(stats));
    return;
  }
  if (req.url.startsWith('/__test/refresh-token?')) {
    const sub = new URL(req.url, issuer).searchParams.get('sub');
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ token: lastRefresh[sub] || '' }));
    return;
  }
  callback(req, res);
});

process.stdout.write(JSON.stringify({ issuer }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
