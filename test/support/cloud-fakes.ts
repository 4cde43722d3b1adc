// The clouds the application talks to, faked for end-to-end tests: the fake STS (this process's
// AWS identity is its caller), the fake Google Cloud with this service's own service account (ADC)
// in a key file, and the application environment that points the real SDK clients at them; the
// fake KMS as the application's key service.
import { type FakeGoogleCloud, type FakeServiceAccount, startFakeGoogleCloud } from '../fakes/fake-google-cloud';
import { type FakeKms, startFakeKms } from '../fakes/fake-kms-server';
import { type FakeSts, startFakeSts } from '../fakes/fake-sts-server';
import { type Canary, secretNeedle } from './canaries';
import { type GoogleServiceAccountInput, hex } from './factories';
import { startTestApp, type TestApp } from './test-app';
import { createTestDatabase, type TestDatabase } from './test-database';
import { useAwsIdentity, writeKeyFile } from './validation-harness';

export interface CloudFakes {
  sts: FakeSts;
  google: FakeGoogleCloud;
  /** This service's own Google identity: the service account in its ADC key file. */
  adcAccount: FakeServiceAccount;
  adcKeyFile: { path: string; remove: () => void };
  /** The application environment pointing at the fakes (for startTestApp's `env`). */
  env: Record<string, string>;
  /** Closes the fakes, removes the key file and puts the AWS environment back. */
  close(): Promise<void>;
}

export interface CloudFakesOptions {
  /** The region the fake STS accepts signatures for (its default if unset). */
  stsRegion?: string;
  /** AWS_REGION of the application. */
  appRegion?: string;
  /** The project of this service's own service account. */
  hostProject?: string;
  /** A project this service's own service account may call Vertex AI in. */
  vertexProject?: string;
  /** Whether VERTEX_API_ENDPOINT points at the fake Vertex AI. */
  vertexApi?: boolean;
}

/** Starts the fake STS and the fake Google Cloud, makes their identities this service's own, and returns the app's env. */
export async function startCloudFakes(options: CloudFakesOptions = {}): Promise<CloudFakes> {
  const hostProject = options.hostProject ?? 'vault-host-project';
  const cleanups: (() => unknown)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const sts = await startFakeSts(options.stsRegion === undefined ? undefined : { region: options.stsRegion });
    cleanups.push(() => sts.close());
    cleanups.push(useAwsIdentity(sts.caller));
    const google = await startFakeGoogleCloud();
    cleanups.push(() => google.close());
    const adcAccount = google.createServiceAccount(`vault-runtime-${hex(3)}@${hostProject}.iam.gserviceaccount.com`, hostProject);
    if (options.vertexProject !== undefined) google.grantVertex(adcAccount.clientEmail, options.vertexProject);
    const adcKeyFile = writeKeyFile(adcAccount.keyFile(google.tokenUrl));
    cleanups.push(adcKeyFile.remove);
    const env: Record<string, string> = {
      AWS_STS_ENDPOINT: sts.endpoint,
      AWS_REGION: options.appRegion ?? 'us-east-1',
      GOOGLE_OAUTH_TOKEN_URL: google.tokenUrl,
      GOOGLE_IAM_CREDENTIALS_ENDPOINT: google.iamCredentialsEndpoint,
      ...(options.vertexApi ? { VERTEX_API_ENDPOINT: google.vertexEndpoint } : {}),
      GOOGLE_APPLICATION_CREDENTIALS: adcKeyFile.path,
      OUTBOUND_ALLOW_PRIVATE: 'true',
    };
    return { sts, google, adcAccount, adcKeyFile, env, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The auth input of a VERTEX credential that is `account`, a service account the fake Google knows. */
export function serviceAccountAuth(account: FakeServiceAccount): { googleServiceAccount: GoogleServiceAccountInput } {
  return {
    googleServiceAccount: {
      clientEmail: account.clientEmail,
      privateKey: account.privateKeyPem,
      privateKeyId: account.privateKeyId,
      projectId: account.projectId,
      clientId: account.clientId,
    },
  };
}

/** The credentials the fakes issued to this service (STS key pairs, Google access tokens), as canaries. */
export function issuedCredentials(fakes: { sts: Pick<FakeSts, 'issued'>; google: Pick<FakeGoogleCloud, 'issuedTokens'> }): Canary[] {
  return [
    ...fakes.sts.issued.flatMap((issued, index) => [
      secretNeedle(`STS secretAccessKey ${index}`, issued.secretAccessKey),
      secretNeedle(`STS sessionToken ${index}`, issued.sessionToken),
    ]),
    ...fakes.google.issuedTokens.map((token, index) => secretNeedle(`Google access token ${index}`, token)),
  ];
}

/** The application environment that makes the fake KMS its key service. */
export function kmsEnv(kms: Pick<FakeKms, 'keyName' | 'endpoint'>): Record<string, string> {
  return { KMS_KEY_NAME: kms.keyName, KMS_API_ENDPOINT: kms.endpoint };
}

export interface KmsVault {
  database: TestDatabase;
  kms: FakeKms;
  vault: TestApp;
  /** Stops the application and the fake KMS, and drops the database. */
  stop(): Promise<void>;
}

/** A new database `databaseName`, the fake KMS, and the application (with `env` added) with the fake KMS as its key service. */
export async function startKmsVault(databaseName: string, env: Record<string, string> = {}): Promise<KmsVault> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const database = await createTestDatabase(databaseName);
    cleanups.push(() => database.drop());
    const kms = await startFakeKms();
    cleanups.push(() => kms.close());
    const vault = await startTestApp({ databaseUrl: database.url, env: { ...kmsEnv(kms), ...env } });
    cleanups.push(() => vault.stop());
    return { database, kms, vault, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
