// The one road out for calls whose destination a user can influence (validation today). http(s)
// only; the destination address is checked when the socket connects — literal addresses before,
// names through our own DNS lookup — so a DNS answer that changes between check and use
// (rebinding) cannot reach a private, loopback, link-local or metadata address. No redirects,
// connect and total deadlines, and a cap on what is read back.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export type OutboundFailure =
  'invalid_url' | 'blocked_address' | 'dns_failed' | 'connect_failed' | 'timeout' | 'redirect_refused' | 'response_too_large';

/** A refused or failed outbound call. Its message names the host at most, never a body. */
export class OutboundError extends Error {
  constructor(
    readonly reason: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundOptions {
  /** Development and tests only: lets calls reach private and loopback addresses. */
  allowPrivate: boolean;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxResponseBytes?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Names that only ever mean a cloud metadata service (also refused as a credential's base URL host). */
export const METADATA_NAMES: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3') as [ipaddr.IPv6, number];

/** True when the address is anything but ordinary public unicast (IPv4, IPv6, IPv4-mapped). */
export function isBlockedAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''));
  } catch {
    return true;
  }
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return isBlockedAddress(v6.toIPv4Address().toString());
    // Only global unicast (2000::/3) is public. That also refuses the forms that embed an IPv4
    // address which could be private: IPv4-compatible ::a.b.c.d (ipaddr.js calls it unicast),
    // NAT64, 6to4 and Teredo.
    if (!v6.match(GLOBAL_UNICAST_V6)) return true;
  }
  return parsed.range() !== 'unicast';
}

export class OutboundClient {
  private readonly connectTimeoutMs: number;
  private readonly totalTimeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: OutboundOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.totalTimeoutMs = options.totalTimeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  }

  async request(target: string, init: OutboundRequest = {}): Promise<OutboundResponse> {
    const url = this.checkUrl(target);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<OutboundResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: OutboundError | null, response?: OutboundResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(totalTimer);
        clearTimeout(connectTimer);
        if (error) {
          request.destroy();
          reject(error);
        } else resolve(response as OutboundResponse);
      };
      const request = transport.request(url, {
        method: init.method ?? 'GET',
        headers: init.headers,
        lookup: this.lookup,
        // A fresh connection each time: a pooled socket would skip the address check.
        agent: false,
      });
      const totalTimer = setTimeout(
        () => finish(new OutboundError('timeout', `${url.host} did not answer within ${this.totalTimeoutMs} ms`)),
        this.totalTimeoutMs,
      );
      const connectTimer = setTimeout(
        () => finish(new OutboundError('timeout', `could not connect to ${url.host} within ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
      request.on('socket', (socket) => {
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.on('error', (error) => {
        if (error instanceof OutboundError) finish(error);
        else
          finish(
            new OutboundError('connect_failed', `could not reach ${url.host}: ${(error as NodeJS.ErrnoException).code ?? 'network error'}`),
          );
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          response.resume();
          finish(new OutboundError('redirect_refused', `${url.host} answered with a redirect, which is not followed`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxResponseBytes) {
            finish(new OutboundError('response_too_large', `${url.host} sent more than ${this.maxResponseBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          finish(null, { status, headers, body: Buffer.concat(chunks) });
        });
        response.on('error', () => finish(new OutboundError('connect_failed', `${url.host} closed the connection`)));
      });
      if (init.body !== undefined) request.write(init.body);
      request.end();
    });
  }

  /** A fetch for libraries that take one (gaxios): same rules, a standard Response back. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = Object.fromEntries(new Headers(init.headers ?? request?.headers).entries());
    const method = init.method ?? request?.method;
    let body: string | undefined;
    if (init.body !== undefined && init.body !== null) {
      if (typeof init.body === 'string') body = init.body;
      else if (init.body instanceof URLSearchParams) body = init.body.toString();
      else throw new OutboundError('invalid_url', 'unsupported request body type');
    } else if (request && request.body !== null) {
      body = await request.text();
    }
    const response = await this.request(target, { method, headers, body });
    return new Response(response.status === 204 ? null : new Uint8Array(response.body), {
      status: response.status,
      headers: response.headers,
    });
  };

  private checkUrl(target: string): URL {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new OutboundError('invalid_url', 'the URL is not absolute');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('invalid_url', 'only http and https are allowed');
    if (url.username || url.password) throw new OutboundError('invalid_url', 'URLs with credentials are not allowed');
    const host = url.hostname
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/\.$/, '')
      .toLowerCase();
    if (this.options.allowPrivate) return url;
    if (METADATA_NAMES.has(host)) throw new OutboundError('blocked_address', `${host} is a metadata service`);
    // WHATWG URL has already normalised decimal, hex and short IPv4 spellings to dotted quads.
    if (ipaddr.isValid(host) && isBlockedAddress(host)) throw new OutboundError('blocked_address', `${host} is not a public address`);
    return url;
  }

  /** DNS lookup that refuses names resolving to a blocked address, at connect time. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(new OutboundError('dns_failed', `${hostname} could not be resolved`), '', 4);
        return;
      }
      const list = addresses;
      const usable = this.options.allowPrivate ? list : list.filter((entry) => !isBlockedAddress(entry.address));
      if (usable.length === 0) {
        callback(new OutboundError('blocked_address', `${hostname} resolves to an address that is not public`), '', 4);
        return;
      }
      // Every address must be public: a name that also resolves privately is refused.
      if (usable.length !== list.length) {
        callback(new OutboundError('blocked_address', `${hostname} resolves to an address that is not public`), '', 4);
        return;
      }
      if (options.all) callback(null, usable);
      else callback(null, usable[0].address, usable[0].family);
    });
  };
}
