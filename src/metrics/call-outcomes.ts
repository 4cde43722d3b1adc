// The outcome label of a call to a cloud, from a closed set whatever the cloud answers: `ok`, a
// gRPC status name (KMS), an AWS error name from a fixed list (STS), an HTTP status or an outbound
// failure reason (Google), else `error`. A cloud's own text never becomes a label value.
import { OutboundError } from '../validation/outbound';

const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** A failed gRPC call: its status name (`UNAVAILABLE`, `DEADLINE_EXCEEDED`, ...), or `error`. */
export function grpcOutcome(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && Number.isInteger(code) ? (GRPC_STATUS_NAMES[code] ?? 'error') : 'error';
}

/** The AWS error names worth telling apart; any other is `error`. */
const STS_ERROR_NAMES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'UnrecognizedClientException',
  'CredentialsProviderError',
  'RegionDisabledException',
  'MalformedPolicyDocument',
  'ValidationError',
  'TimeoutError',
  'RequestTimeout',
  'Throttling',
]);

/** A failed STS call: its AWS error name when it is one of a fixed few, else `error`. */
export function stsOutcome(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && STS_ERROR_NAMES.has(name) ? name : 'error';
}

/** An HTTP answer: `ok` for 2xx, else its status (three digits). */
export function httpStatusOutcome(status: number): string {
  if (status >= 200 && status < 300) return 'ok';
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'error';
}

/** An HTTP call that got no answer: the outbound client's reason (`timeout`, `connect_failed`, ...), or `error`. */
export function outboundFailureOutcome(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const outbound = error instanceof OutboundError ? error : cause instanceof OutboundError ? cause : undefined;
  return outbound?.reason ?? 'error';
}
