// The README's examples, run as pasted against the real application, in the order the README
// gives them: every operation of its ```graphql blocks (with the token its `npm run -s token`
// line mints, as in Sandbox), and every curl command of its ```sh blocks that calls the service
// at its default addresses (127.0.0.1:4000, the runtime listener at 127.0.0.1:4001), with the
// tokens its `NAME=$(npm run -s token ...)` lines mint. A placeholder such as `<id from above>` is
// replaced by what an earlier example created. An example the service refuses fails here, so the
// README cannot drift from what the service accepts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, print } from 'graphql';
import { DEFAULT_DEVELOPMENT_ORG_ID } from '../../src/auth/development-secret';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const README = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
const SERVICE = 'http://127.0.0.1:4000';
const RUNTIME = 'http://127.0.0.1:4001';

/** What the examples created so far, for the placeholders of the ones after them. */
interface Made {
  credentialId?: string;
  providerId?: string;
}

const PLACEHOLDERS: Record<string, (made: Made) => string | undefined> = {
  '<id from above>': (made) => made.credentialId,
  '<a provider of your organization>': (made) => made.providerId,
};

/** `npm run -s token -- --org X --role R ...` as the token it prints: organization and roles. */
interface TokenRequest {
  orgId: string;
  roles: string[];
}

type Example =
  | { kind: 'graphql'; line: number; label: string; document: string }
  | { kind: 'curl'; line: number; label: string; words: string[] }
  | { kind: 'token'; line: number; variable: string | null; request: TokenRequest };

function tokenRequest(args: string): TokenRequest {
  const words = args.split(/\s+/).filter(Boolean);
  const orgIndex = words.indexOf('--org');
  const roles = words.flatMap((word, index) => (word === '--role' ? [words[index + 1]] : []));
  return { orgId: orgIndex >= 0 ? words[orgIndex + 1] : DEFAULT_DEVELOPMENT_ORG_ID, roles: roles.length > 0 ? roles : ['admin'] };
}

/** A command line split into words the way sh does for these examples: quotes, and $VAR left for later. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let index = 0; index < command.length; index++) {
    const char = command[index];
    if (char === "'" || char === '"') {
      const end = command.indexOf(char, index + 1);
      if (end < 0) throw new Error(`unbalanced quote in: ${command}`);
      // Single quotes keep $ literally: marked so that expansion leaves them alone.
      const quoted = command.slice(index + 1, end);
      word = (word ?? '') + (char === "'" ? quoted.replace(/\$/g, '\u0000') : quoted);
      index = end;
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

function examplesOf(readme: string): Example[] {
  const examples: Example[] = [];
  for (const block of readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    const [, language, body] = block;
    const firstLine = readme.slice(0, block.index).split('\n').length + 1;
    if (language === 'graphql') {
      const document = parse(body);
      // A block of type definitions (SDL) is not something to run.
      if (!document.definitions.every((definition) => definition.kind === Kind.OPERATION_DEFINITION)) continue;
      for (const definition of document.definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        const rootField = definition.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
        const line = firstLine + (definition.loc ? body.slice(0, definition.loc.start).split('\n').length - 1 : 0);
        examples.push({
          kind: 'graphql',
          line,
          label: `${definition.operation} ${rootField?.name.value ?? ''}`,
          document: print(definition),
        });
      }
    } else if (language === 'sh' || language === 'bash') {
      const lines = body.replace(/\\\n\s*/g, ' ').split('\n');
      lines.forEach((text, offset) => {
        const line = firstLine + offset;
        const assigned = /^(\w+)=\$\(npm run -s token(?: -- (.*))?\)$/.exec(text.trim());
        const printed = /^npm run -s token(?: -- (.*?))?(?:\s+#.*)?$/.exec(text.trim());
        if (assigned) examples.push({ kind: 'token', line, variable: assigned[1], request: tokenRequest(assigned[2] ?? '') });
        else if (printed) examples.push({ kind: 'token', line, variable: null, request: tokenRequest(printed[1] ?? '') });
        else if (/^curl\s/.test(text.trim())) {
          const words = shellWords(text.trim());
          const url = words.slice(1).find((word) => /^https?:/.test(word)) ?? '';
          if (url.startsWith(`${SERVICE}/`) || url.startsWith(`${RUNTIME}/`)) {
            examples.push({ kind: 'curl', line, label: `curl ${url.replace(/^http:\/\/[^/]+/, '')}`, words });
          }
        }
      });
    }
  }
  return examples;
}

const EXAMPLES = examplesOf(README);
const RUNNABLE = EXAMPLES.filter((example): example is Exclude<Example, { kind: 'token' }> => example.kind !== 'token');

let database: TestDatabase;
let vault: TestApp;
const made: Made = {};
/** Tokens by shell variable, and the one a reader pastes into Sandbox for the GraphQL examples. */
const tokens = new Map<string, string>();
let sandboxToken: string | undefined;

beforeAll(async () => {
  database = await createTestDatabase('readme_examples');
  vault = await startTestApp({ databaseUrl: database.url });
});

afterAll(async () => {
  await vault?.stop();
  await database?.drop();
});

/** The README's text with its placeholders filled in from what earlier examples made. */
function filled(text: string): string {
  return text.replace(/<[^<>\n]+>/g, (placeholder) => {
    const fill = PLACEHOLDERS[placeholder];
    if (!fill) throw new Error(`the README uses a placeholder this test does not know: ${placeholder}`);
    const value = fill(made);
    if (value === undefined) throw new Error(`no earlier example made what ${placeholder} stands for`);
    return value;
  });
}

/** Mints the tokens of the `npm run -s token` lines up to `line`, as the reader would have. */
function mintTokensUpTo(line: number): void {
  for (const example of EXAMPLES) {
    if (example.kind !== 'token' || example.line > line) continue;
    const token = vault.token({ orgId: example.request.orgId, roles: example.request.roles });
    if (example.variable) tokens.set(example.variable, token);
    else sandboxToken ??= token;
  }
}

function expand(word: string): string {
  const expanded = word.replace(/\$\{?(\w+)\}?/g, (_match, name: string) => {
    const value = tokens.get(name);
    if (value === undefined) throw new Error(`the README's curl uses $${name}, which no earlier line sets`);
    return value;
  });
  return expanded.replace(/\u0000/g, '$');
}

async function runCurl(words: string[]): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  let method: string | undefined;
  let url = '';
  for (let index = 1; index < words.length; index++) {
    const word = words[index];
    if (word === '-H' || word === '--header') {
      const [name, ...value] = expand(words[++index]).split(':');
      headers[name.trim().toLowerCase()] = value.join(':').trim();
    } else if (word === '-d' || word === '--data' || word === '--data-raw') {
      body = filled(expand(words[++index]));
    } else if (word === '-X' || word === '--request') {
      method = words[++index];
    } else if (/^https?:/.test(word)) {
      url = word.replace(SERVICE, vault.baseUrl).replace(RUNTIME, vault.app.runtimeUrl ?? RUNTIME);
    } else if (!/^-[sSfL]+$/.test(word)) {
      throw new Error(`the README's curl uses an option this test does not know: ${word}`);
    }
  }
  const response = await fetch(filled(url), { method: method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  return { status: response.status, text: await response.text() };
}

/** Runs one example: its HTTP status, and the errors it answered (GraphQL errors, or a refusal's body). */
async function run(example: Exclude<Example, { kind: 'token' }>): Promise<{ status: number; errors: unknown }> {
  mintTokensUpTo(example.line);
  if (example.kind === 'curl') {
    const response = await runCurl(example.words);
    return { status: response.status, errors: response.status === 200 ? undefined : response.text };
  }
  const response = await vault.graphql(filled(example.document), undefined, { token: sandboxToken });
  const data = (response.body.data ?? {}) as { createCredential?: { id: string }; createProvider?: { id: string } };
  made.credentialId = data.createCredential?.id ?? made.credentialId;
  made.providerId = data.createProvider?.id ?? made.providerId;
  return { status: response.status, errors: response.body.errors };
}

test('every example works as pasted, in README order, the first ones a newcomer pastes among them', async () => {
  const outcomes = [];
  for (const example of RUNNABLE) outcomes.push({ example: `${example.label} (README.md line ${example.line})`, ...(await run(example)) });

  expect(outcomes.map((outcome) => outcome.example.replace(/ \(README.*$/, ''))).toEqual(
    expect.arrayContaining([
      'mutation createCredential',
      'mutation createProvider',
      'query credentials',
      'curl /admin/connections',
      'curl /v1/upstream-auth',
    ]),
  );
  expect(outcomes).toEqual(outcomes.map(({ example }) => ({ example, status: 200, errors: undefined })));
});
