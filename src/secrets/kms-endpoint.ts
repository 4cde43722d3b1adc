// KMS_API_ENDPOINT's two forms, parsed once for the configuration check and the KMS client:
// `host:port` (TLS with Google credentials) or `http://host:port` (plaintext, no credentials:
// emulators and the tests' fake). IPv6 hosts come in brackets, `[::1]:8443`.

/** Deadline of one KMS call when KMS_TIMEOUT_MS is unset. */
export const KMS_CALL_TIMEOUT_DEFAULT_MS = 5000;

export interface KmsEndpoint {
  host: string;
  port: number;
  /** `http://`: no TLS and no credentials. */
  plaintext: boolean;
}

const HOST_PORT = /^(?<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?<port>\d{1,5})$/;

/** The endpoint, or undefined when the text is neither form. */
export function parseKmsEndpoint(text: string): KmsEndpoint | undefined {
  const plaintext = text.startsWith('http://');
  const match = HOST_PORT.exec(plaintext ? text.slice('http://'.length) : text);
  if (!match?.groups) return undefined;
  const port = Number(match.groups.port);
  if (port > 65535) return undefined;
  return { host: match.groups.host.replace(/^\[(.*)\]$/, '$1'), port, plaintext };
}
