// ScrubbingSpanExporter decides what of a span leaves the process: only attributes of known
// namespaces, without documents, variables, parameters, headers, query strings, user info or error
// messages; a span keeps its name, timing, parentage and status code.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import { scrubAttributes, ScrubbingSpanExporter } from '../../../src/tracing/scrubbing-span-exporter';

const SPAN_CONTEXT = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };

function aSpan(overrides: Partial<ReadableSpan> = {}): ReadableSpan {
  return {
    name: 'POST /graphql',
    kind: SpanKind.SERVER,
    spanContext: () => SPAN_CONTEXT,
    startTime: [1, 0],
    endTime: [2, 0],
    duration: [1, 0],
    ended: true,
    status: { code: SpanStatusCode.ERROR, message: 'Unexpected token s in JSON: "sk-secret"' },
    attributes: {},
    links: [],
    events: [],
    resource: resourceFromAttributes({ 'service.name': 'credential-vault' }),
    instrumentationScope: { name: '@opentelemetry/instrumentation-http' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...overrides,
  };
}

/** What the exporter hands on for `span`. */
function exported(span: ReadableSpan): ReadableSpan {
  const handed: ReadableSpan[] = [];
  const inner: SpanExporter = { export: (spans) => handed.push(...spans), shutdown: () => Promise.resolve() };
  new ScrubbingSpanExporter(inner).export([span], () => undefined);
  return handed[0];
}

describe('attributes', () => {
  test('keeps what describes the request: method, route, status, statement, RPC method, operation name', () => {
    const kept = {
      'http.request.method': 'POST',
      'http.route': '/admin/connections/:id',
      'http.response.status_code': 200,
      'db.statement': 'SELECT "id" FROM "credentials" WHERE "id" = $1',
      'rpc.method': 'Encrypt',
      'graphql.operation.name': 'CreateCredential',
    };
    expect(scrubAttributes(kept)).toEqual(kept);
  });

  test.each([
    ['graphql.source', 'mutation { createCredential(input: { auth: { apiKey: { apiKey: SECRET } } }) { id } }'],
    ['graphql.variables.input.auth', 'sk-secret'],
    ['db.postgresql.values', '["sk-secret"]'],
    ['db.query.parameter.0', 'sk-secret'],
    ['http.request.header.authorization', 'Bearer eyJ...'],
    ['http.response.header.set-cookie', 'session=1'],
    ['url.query', 'variables=%7B%22key%22%3A%22sk-secret%22%7D'],
    ['rpc.grpc.request.metadata.authorization', 'Bearer ya29...'],
    ['exception.message', 'Unexpected token s in JSON: "sk-secret"'],
    ['exception.stacktrace', 'Error: sk-secret\n    at ...'],
    ['enduser.id', 'user-1'],
    ['custom.anything', 'sk-secret'],
  ])('drops %s', (key, value) => {
    expect(scrubAttributes({ [key]: value })).toEqual({});
  });

  test.each([
    ['url.full', 'https://user:password@example.com/v1/token?key=sk-secret#frag', 'https://example.com/v1/token'],
    ['http.url', 'http://127.0.0.1:4000/graphql?query=x&variables=y', 'http://127.0.0.1:4000/graphql'],
    ['http.target', '/graphql?variables=%7B%7D', '/graphql'],
    ['db.connection_string', 'postgresql://vault:secret@db.internal:5432/vault', 'postgresql://db.internal:5432/vault'],
  ])('cuts user info, query and fragment out of %s', (key, value, scrubbed) => {
    expect(scrubAttributes({ [key]: value })).toEqual({ [key]: scrubbed });
  });
});

describe('spans', () => {
  test("keep their name, kind, timing, context and status code, without the status's message", () => {
    const span = exported(aSpan());
    expect(span).toMatchObject({ name: 'POST /graphql', kind: SpanKind.SERVER, startTime: [1, 0], endTime: [2, 0] });
    expect(span.spanContext()).toEqual(SPAN_CONTEXT);
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
  });

  test('keep their events with the exception type only', () => {
    const span = exported(
      aSpan({
        events: [{ name: 'exception', time: [1, 5], attributes: { 'exception.type': 'SyntaxError', 'exception.message': 'sk-secret' } }],
      }),
    );
    expect(span.events).toEqual([{ name: 'exception', time: [1, 5], attributes: { 'exception.type': 'SyntaxError' } }]);
  });

  test('keep their links without attributes', () => {
    const context = { ...SPAN_CONTEXT, spanId: '00f067aa0ba902b7' };
    const span = exported(aSpan({ links: [{ context, attributes: { 'custom.note': 'sk-secret' } }] }));
    expect(span.links).toEqual([{ context }]);
  });
});
