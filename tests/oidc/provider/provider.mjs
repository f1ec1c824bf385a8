// A real OpenID Connect provider for the forum's SSO tests: the certified `oidc-provider`
// package, started by tests/oidc/conftest.py on 127.0.0.1 and a free port.
//
// Input (environment): OIDC_TEST_CLIENTS, a JSON list of client registrations
// ({client_id, client_secret, redirect_uris}).
// Output: one JSON line on stdout once it listens, {"issuer": "http://127.0.0.1:PORT"}.
//
// Sign-in uses the package's development interactions: GET /interaction/:uid shows a form,
// POST it with prompt=login and any `login` (the account id, which is the `sub`), then the
// consent form with prompt=consent. Accounts and their claims live in memory; the tests set
// them through PUT /test/accounts/:sub with a JSON body of claims (test-only, like the rest).
import http from 'node:http';

import Provider from 'oidc-provider';

const accounts = new Map([
  // The fixed test user; tests add others or change claims with PUT /test/accounts/:sub.
  ['alice-0001', {
    email: 'alice@acme.example', email_verified: true, name: 'Alice Example', preferred_username: 'alice',
  }],
]);

function readJson(req) {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      try { resolve(JSON.parse(raw || '{}')); } catch (err) { reject(err); }
    });
    req.on('error', reject);
  });
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: JSON.parse(process.env.OIDC_TEST_CLIENTS || '[]'),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // Every client must send a PKCE challenge, so a client that forgot it is refused here.
    pkce: { required: () => true },
    cookies: { keys: ['forum-tests-only-cookie-key'] },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, ...(accounts.get(sub) || {}) };
        },
      };
    },
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    const match = /^\/test\/accounts\/([^/?]+)$/.exec(req.url);
    if (match && req.method === 'PUT') {
      try {
        accounts.set(decodeURIComponent(match[1]), await readJson(req));
        res.writeHead(204).end();
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
      return;
    }
    callback(req, res);
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
