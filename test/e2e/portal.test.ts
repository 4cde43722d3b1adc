// The admin page at /portal in a real browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core) against the real service on PostgreSQL, with STS and Google faked. An admin
// signs in with a pasted token, creates a credential of each auth-type family (API key, AWS role,
// Google service account), sees an input error on its field, rotates a secret, is told which
// providers keep a credential in use, creates and deletes a provider, and validates an AWS role
// and a Vertex AI identity. After every flow the page (DOM and input values), sessionStorage,
// localStorage and every /graphql response are searched for the secrets typed in.
// The last tests each open a signed-in tab of their own: editing replaces a credential's settings,
// a key-service (a second service on the fake Cloud KMS) or network failure keeps all but the
// secret, every form control is labelled, Tab shows a visible focus, and a provider is repointed.
// Screenshots of each page at 1280 and 390 px go to test-output/portal/ (git-ignored).
//
// Without a chromium binary on PATH the suite is skipped, saying so, unless CI is set: CI
// installs Chromium (.ci/run), so a missing binary there fails the suite.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findProjectRoot } from '../../src/db/project-paths';
import { apiKeyCanary, type Canary, canary, findCanaries, type Haystack, pemNeedle } from '../support/canaries';
import { type CloudFakes, startCloudFakes, startKmsVault } from '../support/cloud-fakes';
import { hex } from '../support/factories';
import { anAdmin } from '../support/organizations';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { browserSuite } from '../support/chromium';

const { executablePath, describeWithBrowser } = browserSuite('the portal browser tests');

const PROJECT_ROOT = findProjectRoot();
const SCREENSHOTS = path.join(PROJECT_ROOT, 'test-output', 'portal');
const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];
const VERTEX_PROJECT = 'vault-portal-project';

/** An input by its id, which holds dots (`credential-auth.apiKey.apiKey`). */
const byId = (id: string) => `[id="${id}"]`;

/** Where the page keeps the signed-in token (portal/src/session.ts). */
const TOKEN_KEY = 'credential-vault.token';

describeWithBrowser('the admin page at /portal, in Chromium', () => {
  let database: TestDatabase;
  let fakes: CloudFakes;
  let vault: TestApp;
  let browser: Browser;
  let page: Page;
  let token: string;
  /** Every /graphql response text the page received. */
  const responses: Haystack[] = [];
  /** Every secret typed into the page so far. */
  const typed: Canary[] = [];

  beforeAll(async () => {
    if (!executablePath)
      throw new Error('CI is set but no chromium binary is on PATH: .ci/run must install it (apt-get install -y chromium).');
    // The page under test is the one built from the current sources (as npm install and npm start build it).
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'portal-build.js')], { cwd: PROJECT_ROOT, stdio: 'pipe' });
    mkdirSync(SCREENSHOTS, { recursive: true });
    database = await createTestDatabase('portal_browser');
    fakes = await startCloudFakes({ vertexApi: true });
    vault = await startTestApp({ databaseUrl: database.url, env: { ...fakes.env, BASE_URL_ALLOW_PRIVATE: 'true' } });
    token = anAdmin(vault).token;
    browser = await chromium.launch({ executablePath });
    page = await browser.newPage({ viewport: WIDTHS[0] });
    // A step that fails says which element it waited for, well before the test's own timeout.
    page.setDefaultTimeout(10_000);
    page.on('response', (response) => {
      if (!response.url().endsWith('/graphql')) return;
      const operation = (response.request().postDataJSON() as { operationName?: string } | null)?.operationName ?? 'GET';
      void response.text().then(
        (text) => responses.push({ source: `response ${responses.length} to ${operation}`, text }),
        () => undefined,
      );
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await vault?.stop();
    await fakes?.close();
    await database?.drop();
  });

  /** Screenshots of the page as it is, at both widths, as `<name>-<width>.png`; the layout must not scroll sideways. */
  async function screenshots(name: string): Promise<void> {
    for (const size of WIDTHS) {
      await page.setViewportSize(size);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size.width}.png`), fullPage: true });
      const overflow = await inPage<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect({ name, width: size.width, overflow }).toEqual({ name, width: size.width, overflow: 0 });
    }
    await page.setViewportSize(WIDTHS[0]);
  }

  /** Evaluates `expression` in the page (written as text: this project's type check has no DOM types). */
  async function inPage<Result>(expression: string): Promise<Result> {
    return page.evaluate(expression);
  }

  /** `mapper` (a function's text, as above) applied to every element `selector` matches. */
  async function onElements<Item>(selector: string, mapper: string): Promise<Item[]> {
    return inPage<Item[]>(`[...document.querySelectorAll(${JSON.stringify(selector)})].map(${mapper})`);
  }

  /** Where a typed secret is still found: the DOM, input values, both storages, /graphql responses. */
  async function leaks(): Promise<string[]> {
    const state = await inPage<{ dom: string; values: string; session: string; local: string }>(`({
      dom: document.documentElement.outerHTML,
      values: [...document.querySelectorAll('input, textarea, select')].map((element) => element.value).join('\\n'),
      session: JSON.stringify({ ...sessionStorage }),
      local: JSON.stringify({ ...localStorage }),
    })`);
    await page.waitForTimeout(100); // response bodies are read asynchronously
    return findCanaries(typed, [
      { source: 'DOM', text: state.dom },
      { source: 'input values', text: state.values },
      { source: 'sessionStorage', text: state.session },
      { source: 'localStorage', text: state.local },
      ...responses,
    ]);
  }

  async function typeSecret(selector: string, secret: Canary): Promise<void> {
    typed.push(secret);
    await page.fill(selector, secret.value);
  }

  async function openNewCredential(modelProvider: string, authType?: string): Promise<void> {
    await page.getByRole('link', { name: 'Credentials', exact: true }).click();
    await page.getByRole('link', { name: 'New credential' }).click();
    await page.getByLabel('Model provider', { exact: true }).selectOption(modelProvider);
    if (authType) await page.getByLabel('Auth type').selectOption(authType);
  }

  async function credentialIdFromUrl(): Promise<string> {
    await page.waitForURL(/\/portal\/credentials\/[0-9a-f-]{36}$/);
    return page.url().split('/').pop() ?? '';
  }

  test('signs in with a pasted token, by keyboard, keeping it in sessionStorage only; outside production it shows the token command', async () => {
    await page.goto(`${vault.baseUrl}/portal/`);
    expect(await page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await page.locator('code').textContent()).toContain('npm run -s token -- --org');
    await screenshots('sign-in');

    for (let presses = 0; presses < 10 && (await inPage<string | undefined>('document.activeElement?.id')) !== 'token'; presses++) {
      await page.keyboard.press('Tab');
    }
    expect(await inPage<string | undefined>('document.activeElement?.id')).toBe('token');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Credentials' }).waitFor();
    expect(await inPage<string[]>('Object.values({ ...sessionStorage })')).toEqual([token]);
    expect(await inPage<number>('localStorage.length')).toBe(0);
    expect(await page.locator('#token').count()).toBe(0);
  });

  test('an input error is shown next to its field, with the other input kept and the secret emptied', async () => {
    const badKey = apiKeyCanary('badKey');
    await openNewCredential('OPENAI');
    await page.fill('#credential-name', 'portal-refused');
    await typeSecret(byId('credential-auth.apiKey.apiKey'), { ...badKey, value: `${badKey.value} with spaces` });
    await page.getByRole('button', { name: 'Create credential' }).click();

    const error = page.locator(byId('credential-auth.apiKey.apiKey-error'));
    await error.waitFor();
    expect(await error.textContent()).toMatch(/\S/);
    expect(await page.getAttribute(byId('credential-auth.apiKey.apiKey'), 'aria-invalid')).toBe('true');
    expect(await page.inputValue('#credential-name')).toBe('portal-refused');
    expect(await page.inputValue(byId('credential-auth.apiKey.apiKey'))).toBe('');
    await screenshots('new-credential-error');
    expect(await leaks()).toEqual([]);
  });

  test('creates an API key credential: a write-only password field, the key shown only as …last4', async () => {
    const key = apiKeyCanary('portalKey');
    await openNewCredential('OPENAI');
    await page.fill('#credential-name', 'portal-openai');
    const keyInput = page.locator(byId('credential-auth.apiKey.apiKey'));
    expect(await keyInput.getAttribute('type')).toBe('password');
    expect(await keyInput.getAttribute('autocomplete')).toBe('off');
    expect(await keyInput.inputValue()).toBe('');
    await typeSecret(byId('credential-auth.apiKey.apiKey'), key);
    await screenshots('new-credential');
    await page.getByRole('button', { name: 'Create credential' }).click();

    await credentialIdFromUrl();
    await page.getByRole('heading', { name: 'portal-openai' }).waitFor();
    expect(await page.locator('.facts').textContent()).toContain(`…${key.value.slice(-4)}`);
    await screenshots('credential');
    expect(await leaks()).toEqual([]);
  });

  test('rotates the secret and shows the new version', async () => {
    await page.getByRole('link', { name: 'Credentials', exact: true }).click();
    await page.getByRole('link', { name: 'portal-openai', exact: true }).click();
    expect(await page.locator('dd[data-field="secretVersion"]').textContent()).toBe('1');

    await typeSecret(byId('rotate-auth.apiKey.apiKey'), apiKeyCanary('rotatedKey'));
    await page.getByRole('button', { name: 'Rotate' }).click();

    await page.getByText('Rotated: secret version 2.').waitFor();
    await page.locator('dd[data-field="secretVersion"]', { hasText: '2' }).waitFor();
    expect(await page.inputValue(byId('rotate-auth.apiKey.apiKey'))).toBe('');
    expect(await leaks()).toEqual([]);
  });

  test('creates an AWS role credential and validates it: each STS check is listed', async () => {
    // The role ARN is not a secret (the catalog shows it as plain text, and the check names the role it assumed); the external id is.
    const role = `arn:aws:iam::123456789012:role/portal-${hex(4)}`;
    const externalId = canary('portalExternalId');
    fakes.sts.addRole({ arn: role, externalId: externalId.value });
    await openNewCredential('BEDROCK', 'AWS_ROLE');
    await page.fill('#credential-name', 'portal-bedrock-role');
    await page.fill(byId('credential-auth.awsRole.iamRoleArn'), role);
    await typeSecret(byId('credential-auth.awsRole.externalId'), externalId);
    await page.getByRole('button', { name: 'Create credential' }).click();
    await credentialIdFromUrl();

    await page.getByRole('button', { name: 'Validate the AWS role' }).click();
    const result = page.getByRole('status', { name: 'Validation result' });
    await result.waitFor();
    expect(await result.textContent()).toMatch(/^Valid/);
    const checks = await onElements<{ name: string | null; ok: string | null }>(
      '[data-check]',
      `(item) => ({ name: item.getAttribute('data-check'), ok: item.getAttribute('data-ok') })`,
    );
    expect(checks.length).toBeGreaterThanOrEqual(2);
    expect(checks.every((check) => check.ok === 'true')).toBe(true);
    await screenshots('credential-validated');
    expect(await leaks()).toEqual([]);
  });

  test('creates a Google service account credential from a multi-line private key and validates it with Vertex AI', async () => {
    const account = fakes.google.createServiceAccount(`portal-sa-${hex(3)}@${VERTEX_PROJECT}.iam.gserviceaccount.com`, VERTEX_PROJECT);
    fakes.google.grantVertex(account.clientEmail, VERTEX_PROJECT);
    await openNewCredential('VERTEX', 'GOOGLE_SERVICE_ACCOUNT');
    await page.fill('#credential-name', 'portal-vertex-sa');
    await page.fill(byId('credential-auth.googleServiceAccount.clientEmail'), account.clientEmail);
    await typeSecret(byId('credential-auth.googleServiceAccount.privateKey'), pemNeedle('portalPrivateKey', account.privateKeyPem));
    await page.fill(byId('credential-auth.googleServiceAccount.privateKeyId'), account.privateKeyId);
    await page.fill(byId('credential-auth.googleServiceAccount.projectId'), account.projectId);
    expect(await onElements<string>(byId('credential-auth.googleServiceAccount.privateKey'), '(element) => element.tagName')).toEqual([
      'TEXTAREA',
    ]);
    await page.getByRole('button', { name: 'Create credential' }).click();
    await credentialIdFromUrl();

    await page.fill('#validate-projectId', VERTEX_PROJECT);
    await page.getByRole('button', { name: 'Validate with Vertex AI' }).click();
    const result = page.getByRole('status', { name: 'Validation result' });
    await result.waitFor();
    expect(await result.textContent()).toMatch(/^Valid/);
    expect(await onElements<string | null>('[data-check]', `(item) => item.getAttribute('data-ok')`)).toEqual(['true', 'true']);
    expect(await leaks()).toEqual([]);
  });

  test('lists the credentials with filter by model provider', async () => {
    await page.getByRole('link', { name: 'Credentials', exact: true }).click();
    await page.locator('tr[data-credential="portal-vertex-sa"]').waitFor();
    expect(await page.locator('tbody tr').count()).toBe(3);
    await screenshots('credentials');

    await page.getByLabel('Model provider', { exact: true }).selectOption('BEDROCK');
    await page.locator('tr[data-credential="portal-openai"]').waitFor({ state: 'detached' });
    expect(await onElements<string | null>('tbody tr', `(row) => row.getAttribute('data-credential')`)).toEqual(['portal-bedrock-role']);
  });

  test('creates a provider from a compatible credential; deleting that credential explains which provider uses it', async () => {
    await page.getByRole('link', { name: 'Providers', exact: true }).click();
    await page.fill('#provider-name', 'portal-route');
    await page.getByLabel('Model provider', { exact: true }).selectOption('OPENAI');
    const picker = page.getByLabel('Credential', { exact: true });
    await picker.locator('option', { hasText: 'portal-openai' }).waitFor({ state: 'attached' });
    expect(await picker.locator('option').allTextContents()).toEqual(['Choose…', 'portal-openai (API_KEY)']);
    await picker.selectOption({ label: 'portal-openai (API_KEY)' });
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.locator('tr[data-provider="portal-route"]').waitFor();
    await screenshots('providers');

    await page.getByRole('link', { name: 'portal-openai', exact: true }).click();
    await page.getByRole('button', { name: 'Delete credential' }).click();
    await page.getByRole('button', { name: 'Yes, delete portal-openai' }).click();
    const explanation = page.locator('.providers-in-use');
    await explanation.waitFor();
    expect(await explanation.locator('li').allTextContents()).toEqual(['portal-route']);
    await screenshots('credential-in-use');
    expect(await leaks()).toEqual([]);
  });

  test('deletes the provider, after which the credential deletes', async () => {
    await page.getByRole('link', { name: 'Providers', exact: true }).click();
    await page.getByRole('button', { name: 'Delete portal-route' }).click();
    await page.locator('tr[data-provider="portal-route"]').waitFor({ state: 'detached' });

    await page.getByRole('link', { name: 'Credentials', exact: true }).click();
    await page.getByRole('link', { name: 'portal-openai', exact: true }).click();
    await page.getByRole('button', { name: 'Delete credential' }).click();
    await page.getByRole('button', { name: 'Yes, delete portal-openai' }).click();
    await page.waitForURL(/\/portal\/credentials$/);
    await page.locator('tr[data-credential="portal-vertex-sa"]').waitFor();
    expect(await page.locator('tr[data-credential="portal-openai"]').count()).toBe(0);
    expect(await leaks()).toEqual([]);
  });

  test('signing out clears the token from sessionStorage', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await inPage<number>('sessionStorage.length')).toBe(0);
    expect(await leaks()).toEqual([]);
  });
  /** A tab of its own, already signed in: the tests below do not depend on the ones above. */
  async function signedInTab(baseUrl = vault.baseUrl, bearer = token): Promise<Page> {
    const tab = await browser.newPage({ viewport: WIDTHS[0] });
    tab.setDefaultTimeout(10_000);
    await tab.addInitScript(`sessionStorage.setItem(${JSON.stringify(TOKEN_KEY)}, ${JSON.stringify(bearer)})`);
    await tab.goto(`${baseUrl}/portal/`);
    await tab.getByRole('heading', { name: 'Credentials' }).waitFor();
    return tab;
  }

  /** A GraphQL request straight to the service, outside the page. */
  async function graphql<Data>(query: string, variables: Record<string, unknown>, baseUrl = vault.baseUrl, bearer = token): Promise<Data> {
    const response = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Data; errors?: unknown[] };
    if (!body.data || body.errors) throw new Error(`GraphQL request failed: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  async function anOpenAiCredential(name: string): Promise<string> {
    const { createCredential } = await graphql<{ createCredential: { id: string } }>(
      'mutation ($input: CreateCredentialInput!) { createCredential(input: $input) { id } }',
      { input: { name, modelProvider: 'OPENAI', auth: { apiKey: { apiKey: apiKeyCanary('fixtureKey').value } } } },
    );
    return createCredential.id;
  }

  async function openNewCredentialIn(tab: Page, modelProvider: string, authType?: string): Promise<void> {
    await tab.getByRole('link', { name: 'Credentials', exact: true }).click();
    await tab.getByRole('link', { name: 'New credential' }).click();
    await tab.getByLabel('Model provider', { exact: true }).selectOption(modelProvider);
    if (authType) await tab.getByLabel('Auth type').selectOption(authType);
  }

  /** The form controls in `tab` that have no accessible name, as `<tag>#<id>`. */
  async function unnamedControls(tab: Page): Promise<string[]> {
    return tab.evaluate(`[...document.querySelectorAll('input:not([type="hidden"]), select, textarea')]
      .filter((element) => {
        const labelled = (element.getAttribute('aria-labelledby') ?? '').split(/\\s+/).filter(Boolean)
          .some((id) => (document.getElementById(id)?.textContent ?? '').trim() !== '');
        const labels = [...(element.labels ?? [])].some((label) => label.textContent.trim() !== '');
        return !labelled && !labels && (element.getAttribute('aria-label') ?? '').trim() === '';
      })
      .map((element) => element.tagName.toLowerCase() + '#' + element.id)`);
  }

  test('editing replaces the settings: an emptied setting is removed, and the new name and base URL are shown', async () => {
    const tab = await signedInTab();
    try {
      const name = `portal-edit-${hex(3)}`;
      await openNewCredentialIn(tab, 'VERTEX', 'GOOGLE_ADC');
      await tab.fill('#credential-name', name);
      await tab.fill(byId('credential-settings.location'), 'europe-west4');
      await tab.fill(byId('credential-settings.project_id'), 'portal-edit-project');
      await tab.getByRole('button', { name: 'Create credential' }).click();
      await tab.waitForURL(/\/portal\/credentials\/[0-9a-f-]{36}$/);
      const id = tab.url().split('/').pop() ?? '';
      expect(await tab.inputValue(byId('edit-settings.project_id'))).toBe('portal-edit-project');

      const renamed = `${name}-renamed`;
      await tab.fill('#edit-name', renamed);
      await tab.fill('#edit-baseUrl', 'https://vertex-proxy.example.com');
      await tab.fill(byId('edit-settings.project_id'), '');
      await tab.getByRole('button', { name: 'Save changes' }).click();

      await tab.getByRole('heading', { name: renamed }).waitFor();
      await tab.locator('.facts', { hasText: 'https://vertex-proxy.example.com' }).waitFor();
      const { credential } = await graphql<{ credential: { name: string; baseUrl: string; settings: Record<string, unknown> } }>(
        'query ($id: ID!) { credential(id: $id) { name baseUrl settings } }',
        { id },
      );
      expect(credential).toEqual({ name: renamed, baseUrl: 'https://vertex-proxy.example.com', settings: { location: 'europe-west4' } });
    } finally {
      await tab.close();
    }
  });

  test("a credential's page opened directly by its address (a bookmark, a reload) loads and shows it", async () => {
    const name = `portal-deep-link-${hex(3)}`;
    const id = await anOpenAiCredential(name);
    const tab = await signedInTab();
    try {
      await tab.goto(`${vault.baseUrl}/portal/credentials/${id}`);
      await tab.getByRole('heading', { name }).waitFor();
      await tab.reload();
      await tab.getByRole('heading', { name }).waitFor();
      expect(await tab.getByRole('heading', { name }).count()).toBe(1);
    } finally {
      await tab.close();
    }
  });

  test('a key-service failure and then a network failure are shown, keeping every input but the secret', async () => {
    const kmsVault = await startKmsVault('portal_browser_kms');
    const tab = await signedInTab(kmsVault.vault.baseUrl, anAdmin(kmsVault.vault).token);
    try {
      const accessKeyId = `AKIA${hex(8).toUpperCase()}`;
      await openNewCredentialIn(tab, 'BEDROCK', 'AWS_KEYS');
      const typeTheSecret = async () => {
        await tab.fill(byId('credential-auth.awsKeys.secretAccessKey'), canary('portalSecretAccessKey').value);
      };
      await tab.fill('#credential-name', 'portal-kms-refused');
      await tab.fill(byId('credential-auth.awsKeys.accessKeyId'), accessKeyId);
      await tab.fill(byId('credential-settings.region'), 'eu-west-1');
      const kept = async () => ({
        name: await tab.inputValue('#credential-name'),
        accessKeyId: await tab.inputValue(byId('credential-auth.awsKeys.accessKeyId')),
        region: await tab.inputValue(byId('credential-settings.region')),
        secretAccessKey: await tab.inputValue(byId('credential-auth.awsKeys.secretAccessKey')),
      });
      const expected = { name: 'portal-kms-refused', accessKeyId, region: 'eu-west-1', secretAccessKey: '' };

      await typeTheSecret();
      kmsVault.kms.failNext(grpc.status.PERMISSION_DENIED, { method: 'encrypt' });
      await tab.getByRole('button', { name: 'Create credential' }).click();
      await tab.getByText('The key service did not answer, so nothing was saved.').waitFor();
      expect(await kept()).toEqual(expected);

      await typeTheSecret();
      await tab.route('**/graphql', (route) => route.abort(), { times: 1 });
      await tab.getByRole('button', { name: 'Create credential' }).click();
      await tab.getByText('The service could not be reached, so nothing was saved.').waitFor();
      expect(await kept()).toEqual(expected);
      expect(new URL(tab.url()).pathname).toBe('/portal/credentials/new');
    } finally {
      await tab.close();
      await kmsVault.stop();
    }
  });

  test('every input, select and textarea on each page has an accessible name', async () => {
    const name = `portal-labels-${hex(3)}`;
    await anOpenAiCredential(name);
    const tab = await signedInTab();
    try {
      const unnamed: Record<string, string[]> = {};
      unnamed.credentials = await unnamedControls(tab);
      await openNewCredentialIn(tab, 'VERTEX', 'GOOGLE_SERVICE_ACCOUNT');
      unnamed.newCredential = await unnamedControls(tab);
      await tab.getByRole('link', { name: 'Credentials', exact: true }).click();
      await tab.getByRole('link', { name, exact: true }).click();
      await tab.getByRole('button', { name: 'Save changes' }).waitFor();
      unnamed.credential = await unnamedControls(tab);
      await tab.getByRole('link', { name: 'Providers', exact: true }).click();
      await tab.getByLabel('Model provider', { exact: true }).selectOption('OPENAI');
      unnamed.providers = await unnamedControls(tab);
      await tab.getByRole('button', { name: 'Sign out' }).click();
      await tab.getByRole('heading', { name: 'Sign in' }).waitFor();
      unnamed.signIn = await unnamedControls(tab);
      expect(unnamed).toEqual({ credentials: [], newCredential: [], credential: [], providers: [], signIn: [] });
      expect(await tab.locator('input, select, textarea').count()).toBeGreaterThan(0);
    } finally {
      await tab.close();
    }
  });

  test('Tab moves through the create form in order, each control showing a visible focus indicator', async () => {
    const tab = await signedInTab();
    try {
      await openNewCredentialIn(tab, 'OPENAI');
      await tab.focus('#credential-name');
      const reached: { id: string; visible: boolean }[] = [];
      for (let presses = 0; presses < 10; presses++) {
        const focused = await tab.evaluate<{ id: string; tag: string; visible: boolean }>(`(() => {
          const element = document.activeElement;
          const style = getComputedStyle(element);
          return {
            id: element.id,
            tag: element.tagName,
            visible: element.matches(':focus-visible') && (style.outlineStyle !== 'none' || style.boxShadow !== 'none'),
          };
        })()`);
        reached.push({ id: focused.tag === 'BUTTON' ? 'submit' : focused.id, visible: focused.visible });
        if (focused.tag === 'BUTTON') break;
        await tab.keyboard.press('Tab');
      }
      expect(reached).toEqual(
        [
          'credential-name',
          'credential-model-provider',
          'credential-auth-type',
          'credential-auth.apiKey.apiKey',
          'credential-baseUrl',
          'submit',
        ].map((id) => ({ id, visible: true })),
      );
    } finally {
      await tab.close();
    }
  });

  test('repoints a provider to another credential of its model provider', async () => {
    const suffix = hex(3);
    const first = await anOpenAiCredential(`portal-first-${suffix}`);
    await anOpenAiCredential(`portal-second-${suffix}`);
    const providerName = `portal-repointed-${suffix}`;
    const { createProvider } = await graphql<{ createProvider: { id: string } }>(
      'mutation ($input: CreateProviderInput!) { createProvider(input: $input) { id } }',
      { input: { name: providerName, modelProvider: 'OPENAI', credentialId: first } },
    );
    const tab = await signedInTab();
    try {
      await tab.getByRole('link', { name: 'Providers', exact: true }).click();
      const row = tab.locator(`tr[data-provider="${providerName}"]`);
      expect(await row.locator('td[data-label="Credential"]').textContent()).toBe(`portal-first-${suffix}`);
      await row.getByRole('button', { name: `Repoint ${providerName}` }).click();
      const picker = row.getByLabel('Credential', { exact: true });
      await picker.locator('option', { hasText: `portal-second-${suffix}` }).waitFor({ state: 'attached' });
      await picker.selectOption({ label: `portal-second-${suffix} (API_KEY)` });
      await row.getByRole('button', { name: 'Repoint', exact: true }).click();

      await row.locator('td[data-label="Credential"]', { hasText: `portal-second-${suffix}` }).waitFor();
      const { provider } = await graphql<{ provider: { credential: { name: string } } }>(
        'query ($id: ID!) { provider(id: $id) { credential { name } } }',
        { id: createProvider.id },
      );
      expect(provider.credential.name).toBe(`portal-second-${suffix}`);
    } finally {
      await tab.close();
    }
  });
});
