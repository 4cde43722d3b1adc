// What leaves the process in a span is decided here, whatever the instrumentations record. Spans are
// copied before export with only the attributes on a short list of namespaces (HTTP, URL, network,
// database, RPC, GraphQL, Express), and even there without the ones that can carry what a client
// sent or what the service holds:
// - GraphQL's document text (`graphql.source`: even with values masked it keeps enum literals and
//   names) and variables;
// - database parameters; HTTP and gRPC headers and metadata (Authorization!) and bodies;
// - query strings and user info of URLs, which are cut off;
// - error messages and stacks, in exception events and in span statuses: messages can quote the
//   input they refused (JSON.parse does, and GraphQL validation errors do).
// SQL text stays (`db.statement`): every statement the service sends is parameterized, and the
// parameters are what is dropped. A span keeps its name, timing, kind, status code and parentage.
import type { Attributes, AttributeValue, Link } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace-node';

/** Attribute namespaces that are exported, minus what DROPPED refuses. */
const EXPORTED_PREFIXES = [
  'http.',
  'url.',
  'server.',
  'client.',
  'network.',
  'net.',
  'user_agent.',
  'db.',
  'rpc.',
  'graphql.',
  'express.',
  'error.type',
  'exception.type',
];

const DROPPED_PREFIXES = [
  'graphql.source',
  'graphql.variables.',
  'db.postgresql.values',
  'db.query.parameter.',
  'http.request.header.',
  'http.response.header.',
  'http.request.body',
  'http.response.body',
  'rpc.grpc.request.metadata.',
  'rpc.grpc.response.metadata.',
  'rpc.request.metadata.',
  'rpc.response.metadata.',
  'url.query',
  'url.fragment',
];

/** Attributes whose value is a URL or a request target: exported without user info, query or fragment. */
const URL_ATTRIBUTES: ReadonlySet<string> = new Set(['http.url', 'http.target', 'url.full', 'url.original', 'db.connection_string']);

export class ScrubbingSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(spans.map(scrubSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** A copy of the span as it may be exported. */
export function scrubSpan(span: ReadableSpan): ReadableSpan {
  const attributes = scrubAttributes(span.attributes);
  const events = span.events.map((event): TimedEvent => ({
    time: event.time,
    name: event.name,
    attributes: scrubAttributes(event.attributes),
  }));
  const links = span.links.map((link): Link => ({ context: link.context }));
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    ended: span.ended,
    // The code says whether it failed; the message is an error's text.
    status: { code: span.status.code },
    attributes,
    links,
    events,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

export function scrubAttributes(attributes: Attributes | undefined): Attributes {
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (!isExported(key) || value === undefined) continue;
    kept[key] = URL_ATTRIBUTES.has(key) ? scrubUrl(value) : value;
  }
  return kept;
}

function isExported(key: string): boolean {
  return EXPORTED_PREFIXES.some((prefix) => key.startsWith(prefix)) && !DROPPED_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** A URL or request target without user info, query string or fragment. */
function scrubUrl(value: AttributeValue): AttributeValue {
  if (typeof value !== 'string') return '';
  return value.replace(/[?#].*$/s, '').replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}
