// One way to build an STS client: the configured region and endpoint (AWS_STS_ENDPOINT for
// emulators and private endpoints), one attempt per call and firm deadlines, so that an STS that
// accepts a connection and never answers cannot hold a request. Used by the AWS role validation
// and by the runtime route that mints session credentials. The SDK is loaded with the first client:
// a vault that never calls STS never loads it.
import type * as StsSdk from '@aws-sdk/client-sts';
import type { STSClient } from '@aws-sdk/client-sts';
import { stsOutcome } from '../metrics/call-outcomes';
import { timedCloudCall } from '../metrics/metrics';

export interface StsClientOptions {
  region: string;
  /** AWS_STS_ENDPOINT; otherwise AWS's regional endpoint. */
  endpoint?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** The identity to sign with; otherwise the SDK's default credential chain (this service's own). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The STS package: its client and command classes. */
export type StsModule = typeof StsSdk;

let loading: Promise<StsModule> | undefined;

/** A configured client, with the package its commands come from. The caller destroys the client. */
export async function createStsClient(options: StsClientOptions): Promise<{ client: STSClient; sts: StsModule }> {
  const sts = await (loading ??= import('@aws-sdk/client-sts'));
  const client = new sts.STSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      // Without it the handler only warns when STS accepts a connection and never answers.
      throwOnRequestTimeout: true,
    },
  });
  // Every call is counted and timed (cloud_calls_total{service="sts"}), named by its command.
  client.middlewareStack.add(
    (next, context) => (args) =>
      timedCloudCall('sts', (context.commandName ?? 'unknown').replace(/Command$/, ''), () => next(args), { ofError: stsOutcome }),
    { step: 'initialize', name: 'cloudCallMetrics' },
  );
  return { client, sts };
}
