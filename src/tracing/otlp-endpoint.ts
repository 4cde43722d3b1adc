// OTEL_EXPORTER_OTLP_ENDPOINT, read the way OpenTelemetry specifies it: the base URL of an OTLP/HTTP
// receiver (a collector), to which the traces signal's path `v1/traces` is appended. Shared by the
// configuration check and by the tracing set-up, which runs before the configuration is loaded.

/** The URL spans are posted to, or undefined when `endpoint` is not an http(s) URL. */
export function otlpTracesUrl(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return `${url.href.replace(/\/+$/, '')}/v1/traces`;
}
