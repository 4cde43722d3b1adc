// A real cross-origin call from a browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core, which downloads no browser) opens a portal page served from a second loopback
// origin, and the page's own script calls the vault as a portal would: a GraphQL mutation with a
// bearer token, then the REST door (a read whose ETag it must see, and an update with If-Match
// under the other mount). The vault lists one page origin in CORS_ORIGINS and not another: from
// the listed one every call succeeds; from the other the browser stops the first call at its
// preflight ("Failed to fetch", a CORS error on the console) and the vault never sees the mutation.
//
// Without a chromium binary on PATH the suite is skipped, saying so, unless CI is set: CI
// installs Chromium (.ci/run), so a missing binary there fails the suite.
import { chromium, type Browser, type Page } from 'playwright-core';
import { aCredentialInput } from '../support/factories';
import { closeHttpServer, type LoopbackHttpServer, startHttpServer } from '../support/loopback';
import { anAdmin } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { countCredentials, type VaultClient } from '../support/vault-client';
import { browserSuite } from '../support/chromium';

/** The portal's steps, as its script reports them. */
interface PortalStep {
  step: string;
  /** false when fetch itself failed (the browser refused the call). */
  ok: boolean;
  status?: number;
  etag?: string | null;
  body?: unknown;
  error?: string;
}

/**
 * The portal page: `runPortal(vault, token, input)` creates a credential through /graphql, reads it
 * through /admin (its ETag is an exposed header) and renames it through /api/llm-gateway/admin
 * with If-Match, stopping at the first call the browser refuses.
 */
const PORTAL_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>portal</title></head><body>
<script>
async function call(step, url, init) {
  try {
    const response = await fetch(url, init);
    return { step, ok: true, status: response.status, etag: response.headers.get('etag'), body: await response.json() };
  } catch (error) {
    return { step, ok: false, error: String(error) };
  }
}
window.runPortal = async (vault, token, input) => {
  const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
  const steps = [];
  const created = await call('graphql', vault + '/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({
      query: 'mutation Create($input: CreateCredentialInput!) { createCredential(input: $input) { id name } }',
      variables: { input },
    }),
  });
  steps.push(created);
  if (!created.ok) return steps;
  const id = created.body.data.createCredential.id;
  const read = await call('rest-read', vault + '/admin/connections/' + id, { headers: { authorization: headers.authorization } });
  steps.push(read);
  if (!read.ok) return steps;
  steps.push(
    await call('rest-update', vault + '/api/llm-gateway/admin/connections/' + id, {
      method: 'PUT',
      headers: { ...headers, 'if-match': read.etag },
      body: JSON.stringify({ name: input.name + '-renamed' }),
    }),
  );
  return steps;
};
</script>
</body></html>`;

const { executablePath, describeWithBrowser } = browserSuite('the cross-origin browser test');

describeWithBrowser('a portal page on another origin, in Chromium', () => {
  let database: TestDatabase;
  let vault: TestApp;
  let listed: LoopbackHttpServer;
  let unlisted: LoopbackHttpServer;
  let browser: Browser;

  const servePortal: Parameters<typeof startHttpServer>[0] = (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(PORTAL_PAGE);
  };

  beforeAll(async () => {
    if (!executablePath)
      throw new Error('CI is set but no chromium binary is on PATH: .ci/run must install it (apt-get install -y chromium).');
    listed = await startHttpServer(servePortal);
    unlisted = await startHttpServer(servePortal);
    database = await createTestDatabase('cors_browser');
    vault = await startTestApp({ databaseUrl: database.url, env: { CORS_ORIGINS: listed.base } });
    browser = await chromium.launch({ executablePath });
  });

  afterAll(async () => {
    await browser?.close();
    await vault?.stop();
    await database?.drop();
    if (listed) await closeHttpServer(listed.server);
    if (unlisted) await closeHttpServer(unlisted.server);
  });

  /** Opens the portal from `origin` and runs it as `caller`; also returns what the page logged as errors. */
  async function runPortalFrom(
    origin: string,
    caller: VaultClient,
    name: string,
  ): Promise<{ steps: PortalStep[]; consoleErrors: string[] }> {
    const page: Page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    try {
      await page.goto(`${origin}/`);
      const input = aCredentialInput({ name });
      const steps = await page.evaluate(
        ([vaultBase, token, credential]) =>
          (globalThis as unknown as { runPortal(vault: string, token: string, input: unknown): Promise<PortalStep[]> }).runPortal(
            vaultBase,
            token,
            credential,
          ),
        [vault.baseUrl, caller.token, input] as const,
      );
      return { steps, consoleErrors };
    } finally {
      await page.close();
    }
  }

  test('from the listed origin, the page creates through /graphql, reads the ETag and updates through the REST door', async () => {
    const admin = anAdmin(vault);

    const { steps } = await runPortalFrom(listed.base, admin, 'portal-listed');

    expect(steps.map(({ step, ok, status }) => ({ step, ok, status }))).toEqual([
      { step: 'graphql', ok: true, status: 200 },
      { step: 'rest-read', ok: true, status: 200 },
      { step: 'rest-update', ok: true, status: 200 },
    ]);
    expect(steps[1].etag).toMatch(/^(W\/)?".+"$/);
    expect(steps[2].body).toMatchObject({ name: 'portal-listed-renamed' });
    expect(await admin.list()).toMatchObject({ body: { data: { credentials: { totalCount: 1 } } } });
  });

  test('from an origin not on the list, the browser refuses the call at its preflight and the vault creates nothing', async () => {
    const admin = anAdmin(vault);
    const before = await countCredentials(database);

    const { steps, consoleErrors } = await runPortalFrom(unlisted.base, admin, 'portal-unlisted');

    expect(steps).toEqual([{ step: 'graphql', ok: false, error: 'TypeError: Failed to fetch' }]);
    expect(consoleErrors.join('\n')).toMatch(/blocked by CORS policy/);
    expect(await countCredentials(database)).toBe(before);
  });
});
