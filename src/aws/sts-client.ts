// One way to build an STS client: the configured region and endpoint (AWS_STS_ENDPOINT for
// emulators and private endpoints), one attempt per call and firm deadlines, so that an STS that
// accepts a connection and never answers cannot hold a request. Used by the AWS role validation
// and by the runtime route that mints session credentials.
import { STSClient } from '@aws-sdk/client-sts';
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

export function createStsClient(options: StsClientOptions): STSClient {
  const client = new STSClient({
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
  return client;
}
