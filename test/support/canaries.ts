// Canary secrets and the scanners that look for them: in response texts, log lines, every table
// of a test database, and every file under a directory. A canary's `value` is what a test sends;
// its `needle` is what must never come back (for API keys, everything but the last four
// characters, which keyLast4 shows by design). The texts searched are haystacks: a Transcript
// records a file's GraphQL exchanges as haystacks, logHaystacks and dumpDatabase make the others.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hex, rsaPrivateKeyPem } from './factories';
import type { GraphQLResponse, TestApp } from './test-app';
import type { TestDatabase } from './test-database';

export interface Canary {
  label: string;
  value: string;
  needle: string;
}

/** A secret whose needle is the whole value: one a test made up, or one some peer issued. */
export function secretNeedle(label: string, value: string): Canary {
  return { label, value, needle: value };
}

/** 40 characters from the middle of one of a PEM's base64 lines: no other text shares them by chance. */
export function pemNeedle(label: string, pem: string): Canary {
  const bodyLines = pem.split('\n').filter((line) => line.length === 64);
  if (bodyLines.length === 0) throw new Error(`${label}: not a PEM with 64-character lines`);
  return { label, value: pem, needle: bodyLines[Math.floor(bodyLines.length / 2)].slice(12, 52) };
}

/** `CANARY-<label>-<24 hex>`: valid as an externalId, privateKeyId, secretAccessKey or session token. */
export function canary(label: string): Canary {
  return secretNeedle(label, `CANARY-${label}-${hex(12)}`);
}

/** `CANARY_<label>_<24 hex>`: a GraphQL name, so that it can stand unquoted in a document (as an enum value). */
export function nameCanary(label: string): Canary {
  return secretNeedle(label, `CANARY_${label}_${hex(12)}`);
}

/** An API key whose needle leaves out the last four characters that keyLast4 shows. */
export function apiKeyCanary(label: string): Canary {
  const needle = `CANARY-${label}-${hex(12)}`;
  return { label, value: `${needle}${hex(2)}`, needle };
}

/** Lower case, for the local part of a service-account email. */
export function emailCanary(label: string): Canary {
  const local = `canary-${label.toLowerCase()}-${hex(8)}`;
  return { label, value: `${local}@vault-test-project.iam.gserviceaccount.com`, needle: local };
}

/** An access key id ([A-Z0-9]{16,128}). */
export function accessKeyIdCanary(label: string): Canary {
  return secretNeedle(label, `AKIA${hex(12).toUpperCase()}`);
}

/** An IAM role ARN whose role name is the canary. */
export function roleArnCanary(label: string): Canary {
  const needle = `CANARY-${label}-${hex(12)}`;
  return { label, value: `arn:aws:iam::123456789012:role/${needle}`, needle };
}

/** A real RSA private key (it has to parse), as a PEM needle. */
export function privateKeyCanary(label: string): Canary {
  return pemNeedle(label, rsaPrivateKeyPem());
}

/** One canary for every secret field of every auth type, labelled `<field><tag>`. */
export function secretCanaries(tag: string) {
  return {
    apiKey: apiKeyCanary(`apiKey${tag}`),
    bedrockApiKey: apiKeyCanary(`bedrockApiKey${tag}`),
    iamRoleArn: roleArnCanary(`iamRoleArn${tag}`),
    externalId: canary(`externalId${tag}`),
    accessKeyId: accessKeyIdCanary(`accessKeyId${tag}`),
    secretAccessKey: canary(`secretAccessKey${tag}`),
    sessionToken: canary(`sessionToken${tag}`),
    privateKey: privateKeyCanary(`privateKey${tag}`),
    privateKeyId: canary(`privateKeyId${tag}`),
    clientEmail: emailCanary(`clientEmail${tag}`),
    targetPrincipal: emailCanary(`targetPrincipal${tag}`),
    delegate: emailCanary(`delegate${tag}`),
  };
}
export type SecretSet = ReturnType<typeof secretCanaries>;

export interface Haystack {
  source: string;
  text: string;
}

/** Every GraphQL exchange a test file made, by source: what went out and what came back. */
export class Transcript {
  /** Each request as sent: its bearer token, document and variables. */
  readonly sent: Haystack[] = [];
  /** Each response text. */
  readonly received: Haystack[] = [];

  /** POSTs a GraphQL request to `vault` with `token` (none if undefined) and `headers`, recording both ways under `source`. */
  async graphql<Data = Record<string, unknown>>(
    vault: TestApp,
    source: string,
    query: string,
    variables: Record<string, unknown> | undefined,
    token: string | undefined,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<Data>> {
    this.sent.push({ source, text: JSON.stringify({ authorization: token, headers, query, variables }) });
    const response = await vault.graphql<Data>(query, variables, { ...(token === undefined ? {} : { token }), headers });
    this.received.push({ source, text: response.text });
    return response;
  }

  /** The responses recorded under a source that starts with `source`. */
  receivedBy(source: string): Haystack[] {
    return this.received.filter((haystack) => haystack.source.startsWith(source));
  }
}

/** Every log line of every app, as `app <i> log line <n>`. */
export function logHaystacks(apps: readonly Pick<TestApp, 'logLines'>[]): Haystack[] {
  return apps.flatMap((app, appIndex) => app.logLines.map((line, index) => ({ source: `app ${appIndex} log line ${index}`, text: line })));
}

/** The forms a leaked needle may take: as is, hex of its UTF-8 bytes (any case), base64, base64url. */
function encodingsOf(needle: string): { encoding: string; text: string; anyCase: boolean }[] {
  const bytes = Buffer.from(needle, 'utf8');
  const forms = [
    { encoding: 'plain', text: needle, anyCase: false },
    { encoding: 'hex', text: bytes.toString('hex'), anyCase: true },
    { encoding: 'base64', text: bytes.toString('base64').replace(/=+$/, ''), anyCase: false },
    { encoding: 'base64url', text: bytes.toString('base64url'), anyCase: false },
  ];
  return forms.filter((form, index) => forms.findIndex((other) => other.text === form.text) === index);
}

/** Every (canary, encoding, source) where a needle shows up; empty means no leak. */
export function findCanaries(canaries: readonly Canary[], haystacks: readonly Haystack[]): string[] {
  const hits: string[] = [];
  for (const haystack of haystacks) {
    const lower = haystack.text.toLowerCase();
    for (const { label, needle } of canaries) {
      for (const form of encodingsOf(needle)) {
        const found = form.anyCase ? lower.includes(form.text.toLowerCase()) : haystack.text.includes(form.text);
        if (found) hits.push(`${label} (${form.encoding}) in ${haystack.source}`);
      }
    }
  }
  return hits;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Every row of every table outside the system schemas: as row_to_json (bytea shows as \x hex),
 * each column cast to text, and bytea columns again as hex and as escaped bytes.
 */
export async function dumpDatabase(database: TestDatabase): Promise<Haystack[]> {
  const columns = await database.query<{ table_schema: string; table_name: string; column_name: string; data_type: string }>(
    `SELECT c.table_schema, c.table_name, c.column_name, c.data_type
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
      ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
  );
  const tables = new Map<string, typeof columns>();
  for (const column of columns) {
    const key = `${quoteIdent(column.table_schema)}.${quoteIdent(column.table_name)}`;
    tables.set(key, [...(tables.get(key) ?? []), column]);
  }
  const haystacks: Haystack[] = [];
  for (const [table, tableColumns] of tables) {
    const selections = tableColumns.flatMap((column, index) => {
      const name = quoteIdent(column.column_name);
      const asText = `${name}::text AS c${index}`;
      return column.data_type === 'bytea'
        ? [asText, `encode(${name}, 'hex') AS h${index}`, `encode(${name}, 'escape') AS e${index}`]
        : [asText];
    });
    const rows = await database.query<Record<string, string | null>>(
      `SELECT row_to_json(t)::text AS json, ${selections.join(', ')} FROM ${table} t`,
    );
    rows.forEach((row, index) => {
      haystacks.push({
        source: `${table} row ${index}`,
        text: Object.values(row)
          .filter((value) => value !== null)
          .join('\n'),
      });
    });
  }
  return haystacks;
}

/** Every regular file under `directory`, recursively. */
export function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return entry.isFile() ? [full] : [];
  });
}

/** Files under `directory` whose bytes hold a needle as UTF-8, UTF-16LE or base64. */
export function findCanariesInFiles(canaries: readonly Canary[], directory: string): string[] {
  const hits: string[] = [];
  for (const file of filesUnder(directory)) {
    const bytes = readFileSync(file);
    for (const { label, needle } of canaries) {
      const forms: [string, Buffer][] = [
        ['utf8', Buffer.from(needle, 'utf8')],
        ['utf16le', Buffer.from(needle, 'utf16le')],
        ['base64', Buffer.from(Buffer.from(needle, 'utf8').toString('base64').replace(/=+$/, ''), 'latin1')],
      ];
      for (const [encoding, form] of forms) {
        if (bytes.includes(form)) hits.push(`${label} (${encoding}) in ${path.relative(directory, file)}`);
      }
    }
  }
  return hits;
}
