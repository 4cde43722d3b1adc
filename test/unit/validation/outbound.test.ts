// The outbound client (src/validation/outbound.ts) against hostile destinations, with nothing of
// ours stubbed. All traffic stays on this host: canary HTTP servers on 127.0.0.1 and ::1 count
// every TCP connection; Node's own `dns.lookup` is replaced by a table (outbound-corpus.ts), so no
// name is ever sent to a real resolver; and `net.Socket.prototype.connect` is wrapped to count
// socket connects and, as a safety net, to refuse any address off this host (so a client bug shows
// up as a failing assertion, never as a packet to 169.254.169.254 or 10.0.0.1).
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { OutboundClient, OutboundError, isBlockedAddress } from '../../../src/validation/outbound';
import { GoogleVertexValidator } from '../../../src/validation/google-vertex-validator';
import { closeHttpServer, listen } from '../../support/loopback';
import { sleep } from '../../support/sleep';
import { HOSTILE_DNS, hostileTargets, type HostileTarget, type StubAddress } from './outbound-corpus';

// ---------------------------------------------------------------------------------------------
// Loopback servers

interface TestServer {
  port: number;
  /** TCP connections accepted (server.on('connection')) */
  connections: number;
  /** accepted connections that have since closed */
  closed: number;
  close(): Promise<void>;
}

async function serve(handler: http.RequestListener, host = '127.0.0.1', port = 0): Promise<TestServer> {
  const server = http.createServer(handler);
  const state = { connections: 0, closed: 0 };
  server.on('connection', (socket) => {
    state.connections += 1;
    socket.on('close', () => (state.closed += 1));
  });
  const bound = await listen(server, host, port);
  return {
    port: bound,
    get connections() {
      return state.connections;
    },
    get closed() {
      return state.closed;
    },
    close: () => closeHttpServer(server),
  };
}

const CANARY_BODY = 'canary reached';
const canaryHandler: http.RequestListener = (_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' });
  response.end(CANARY_BODY);
};

let canary4: TestServer;
let canary6: TestServer | null = null;
let ports: { v4: number; v6: number };
let corpus: HostileTarget[];

const canaryConnections = () => canary4.connections + (canary6?.connections ?? 0);

// ---------------------------------------------------------------------------------------------
// Node's socket connect, counted and fenced to this host

interface ConnectRecord {
  host: string | undefined;
  port: number | undefined;
  /** what the socket's lookup answered (names only) */
  resolved: string[];
  /** addresses a TCP connect was actually started to ('connectionAttempt') */
  attempts: string[];
}

/** Everything that stays on this host: 127/8, ::1, and the unspecified addresses (Linux routes them to loopback). */
const thisHost = new net.BlockList();
thisHost.addSubnet('127.0.0.0', 8, 'ipv4');
thisHost.addAddress('0.0.0.0', 'ipv4');
thisHost.addAddress('::1', 'ipv6');
thisHost.addAddress('::', 'ipv6');
/** Extra addresses the fence refuses (only for the fence's own self-test). */
const fenceAlsoRefuses = new Set<string>();

function offThisHost(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 0) return true;
  return fenceAlsoRefuses.has(ip) || !thisHost.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

function connectTarget(args: unknown[]): { host: string | undefined; port: number | undefined } {
  const first: unknown = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: unknown; port?: unknown };
    return {
      host: typeof options.host === 'string' ? options.host : undefined,
      port: options.port === undefined ? undefined : Number(options.port),
    };
  }
  if (typeof first === 'number' || typeof first === 'string')
    return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : undefined };
  return { host: undefined, port: undefined };
}

// eslint-disable-next-line jest/unbound-method -- kept unbound on purpose: guardedConnect calls it with .apply(socket, args)
const realConnect = net.Socket.prototype.connect;
let connectSpy: jest.SpyInstance;
const connectLog: ConnectRecord[] = [];
/** Connections the fence stopped: each one is a destination the client should have refused. */
const fenceTrips: string[] = [];
/** where the corpus's own trips end (those are reported by the corpus tests) */
let fenceTripsAfterCorpus = 0;
/** the host a socket.connect call is resolving right now (set only during that call) */
let connectingTo: string | undefined;
/** socket.connect and dns.lookup calls, in order */
const events: string[] = [];

function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const target = connectTarget(args);
  const record: ConnectRecord = { ...target, resolved: [], attempts: [] };
  connectLog.push(record);
  events.push(`socket.connect ${target.host}`);
  this.prependListener('connectionAttempt', (ip: string) => record.attempts.push(ip));
  // A name's addresses are all announced by 'lookup' before the first connect is started;
  // destroying the socket there means no SYN is ever sent.
  this.prependListener('lookup', (error: Error | null, ip?: string) => {
    if (error || !ip) return;
    record.resolved.push(ip);
    if (offThisHost(ip)) {
      fenceTrips.push(`${target.host} -> ${ip}`);
      this.destroy(new Error(`test fence: refused to connect to ${ip}`));
    }
  });
  if (target.host !== undefined && net.isIP(target.host) !== 0 && offThisHost(target.host)) {
    fenceTrips.push(target.host);
    process.nextTick(() => this.destroy(new Error(`test fence: refused to connect to ${target.host}`)));
    return this;
  }
  // Node resolves a name synchronously inside connect(): the resolver can tell that lookup apart.
  connectingTo = target.host;
  try {
    return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } finally {
    connectingTo = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Node's dns.lookup, answered from a table

type DnsAnswer = readonly StubAddress[] | 'stall';
/** Per-test answers, by normalised name, consulted before HOSTILE_DNS; told whether a socket is connecting. */
const dnsOverrides = new Map<string, (query: { insideConnect: boolean }) => DnsAnswer>();
const unexpectedNames: string[] = [];
let dnsSpy: jest.SpyInstance;

type LookupCallback = (error: NodeJS.ErrnoException | null, address?: string | dns.LookupAddress[], family?: number) => void;

function stubLookup(hostname: string, options: unknown, callback?: unknown): void {
  const done = (typeof options === 'function' ? options : callback) as LookupCallback;
  const opts: dns.LookupOptions =
    typeof options === 'object' && options !== null ? options : typeof options === 'number' ? { family: options } : {};
  const insideConnect = connectingTo === hostname;
  events.push(`dns.lookup ${hostname}${insideConnect ? ' (inside socket.connect)' : ''}`);
  const key = hostname.toLowerCase().replace(/\.+$/, '');
  const override = dnsOverrides.get(key);
  // Numeric hosts answer themselves, as getaddrinfo does (server.listen('127.0.0.1') asks too).
  const literal = net.isIP(hostname);
  const answer: DnsAnswer | undefined = literal
    ? [{ address: hostname, family: literal === 6 ? 6 : 4 }]
    : override
      ? override({ insideConnect })
      : HOSTILE_DNS[key];
  if (answer === 'stall') return; // a resolver that never answers
  setImmediate(() => {
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family;
    const list = (answer ?? []).filter((entry) => !family || entry.family === family);
    if (list.length === 0) {
      if (!answer) unexpectedNames.push(hostname);
      done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }));
    } else if (opts.all)
      done(
        null,
        list.map((entry) => ({ ...entry })),
      );
    else done(null, list[0].address, list[0].family);
  });
}

/** dns.lookup (the stubbed one) as a promise, all addresses. */
function resolveAll(hostname: string): Promise<dns.LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dns.lookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
}

// ---------------------------------------------------------------------------------------------

async function refusal(promise: Promise<unknown>): Promise<OutboundError> {
  const outcome = await promise.then(
    (value) => ({ settled: 'resolved' as const, value }),
    (error: unknown) => ({ settled: 'rejected' as const, error }),
  );
  if (outcome.settled === 'resolved') {
    const status = (outcome.value as { status?: unknown } | null)?.status;
    throw new Error(`expected the call to be refused, but it succeeded (status ${String(status)})`);
  }
  expect(outcome.error).toBeInstanceOf(OutboundError);
  return outcome.error as OutboundError;
}

/** Every way an error could carry text to a caller: message, stack, own properties, cause. */
function everythingIn(error: unknown): string {
  return `${String(error)}\n${(error as Error).stack ?? ''}\n${inspect(error, { depth: 6, showHidden: true })}`;
}

const strict = new OutboundClient({ allowPrivate: false });
const permissive = new OutboundClient({ allowPrivate: true });

beforeAll(async () => {
  canary4 = await serve(canaryHandler, '127.0.0.1');
  try {
    canary6 = await serve(canaryHandler, '::1', canary4.port);
  } catch {
    canary6 = await serve(canaryHandler, '::1').catch(() => null);
  }
  ports = { v4: canary4.port, v6: canary6?.port ?? canary4.port };
  corpus = hostileTargets(ports);
  connectSpy = jest.spyOn(net.Socket.prototype, 'connect').mockImplementation(guardedConnect);
  dnsSpy = jest.spyOn(dns, 'lookup').mockImplementation(stubLookup);
});

beforeEach(() => {
  connectSpy.mockClear();
  connectLog.length = 0;
  events.length = 0;
  dnsOverrides.clear();
});

afterAll(async () => {
  connectSpy?.mockRestore();
  dnsSpy?.mockRestore();
  await canary4?.close();
  await canary6?.close();
});

// Labels only (ports are not known until the canaries listen): one test per corpus entry.
const LABELS = hostileTargets({ v4: 1, v6: 1 }).map((target) => target.label);
const targetNamed = (label: string): HostileTarget => {
  const target = corpus.find((entry) => entry.label === label);
  if (!target) throw new Error(`no corpus entry ${label}`);
  return target;
};

describe('the test harness itself', () => {
  test('the corpus has at least 60 hostile targets, uniquely labelled, loopback forms on the canary ports', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(LABELS).size).toBe(LABELS.length);
    for (const target of corpus.filter((entry) => entry.canary)) {
      expect(target.url).toMatch(new RegExp(`:${target.canary === 'v6' ? ports.v6 : ports.v4}\\b`));
    }
  });

  test('the fence stops a connection before it is made, for literal addresses and resolved names', async () => {
    fenceAlsoRefuses.add('127.0.0.1');
    try {
      const before = canaryConnections();
      const literal = await refusal(permissive.request(`http://127.0.0.1:${ports.v4}/`));
      const named = await refusal(permissive.request(`http://loopback.rebind.test:${ports.v4}/`));
      expect([literal.reason, named.reason]).toEqual(['connect_failed', 'connect_failed']);
      await sleep(50);
      expect(canaryConnections() - before).toBe(0);
      expect(connectLog.flatMap((record) => record.attempts)).toEqual([]);
    } finally {
      fenceAlsoRefuses.delete('127.0.0.1');
      fenceTrips.length = 0;
    }
  });

  test('the canary counts a connection, and the spies see it (positive control)', async () => {
    const before = canary4.connections;
    const response = await permissive.request(`http://127.0.0.1:${ports.v4}/`);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe(CANARY_BODY);
    await sleep(20);
    expect(canary4.connections - before).toBe(1);
    expect(connectSpy).toHaveBeenCalledTimes(1);
    expect(connectLog[0]).toMatchObject({ host: '127.0.0.1', port: ports.v4, attempts: ['127.0.0.1'] });
  });
});

describe('hostile corpus, allowPrivate: false', () => {
  let canaryBefore = 0;
  const literalConnects: string[] = [];
  beforeAll(() => {
    canaryBefore = canaryConnections();
    fenceTrips.length = 0;
  });
  afterAll(() => {
    fenceTripsAfterCorpus = fenceTrips.length;
  });

  test.each(LABELS)('refuses %s', async (label) => {
    const target = targetNamed(label);
    const before = canaryConnections();
    const tripsBefore = fenceTrips.length;
    const error = await refusal(strict.request(target.url));
    if (target.kind !== 'name' && connectSpy.mock.calls.length > 0) literalConnects.push(label);
    expect({ url: target.url, reason: error.reason }).toEqual({ url: target.url, reason: target.reason });
    // A name is decided inside the socket's own lookup: connect() may start, no TCP connect may.
    // Literal addresses, schemes and credentials are refused before a socket exists: no connect().
    expect(connectSpy.mock.calls.length).toBeLessThanOrEqual(target.kind === 'name' ? 1 : 0);
    expect(connectLog.flatMap((record) => record.attempts)).toEqual([]);
    expect(error.message).not.toMatch(/password|secret/);
    expect(fenceTrips.slice(tripsBefore)).toEqual([]);
    await sleep(5);
    expect(canaryConnections() - before).toBe(0);
  });

  test('after the whole corpus: the canaries saw zero connections, no socket for any literal, nothing off this host', async () => {
    // A walk of its own, so this holds even when the per-entry tests are filtered.
    const wrong: string[] = [];
    for (const target of corpus) {
      connectSpy.mockClear();
      connectLog.length = 0;
      const outcome = await strict.request(target.url).then(
        (response) => `answered ${response.status}`,
        (error: unknown) => (error instanceof OutboundError ? error.reason : `threw ${String(error)}`),
      );
      if (outcome !== target.reason) wrong.push(`${target.label}: ${outcome}`);
      if (target.kind !== 'name' && connectSpy.mock.calls.length > 0) wrong.push(`${target.label}: socket.connect called`);
      const attempts = connectLog.flatMap((record) => record.attempts);
      if (attempts.length > 0) wrong.push(`${target.label}: TCP connect to ${attempts.join(', ')}`);
    }
    await sleep(100);
    expect({
      canaryConnections: canaryConnections() - canaryBefore,
      literalsThatOpenedASocket: literalConnects,
      stoppedByTheFence: fenceTrips,
      unknownNames: unexpectedNames,
      wrong,
    }).toEqual({ canaryConnections: 0, literalsThatOpenedASocket: [], stoppedByTheFence: [], unknownNames: [], wrong: [] });
  });
});

describe('metadata names are refused by name alone', () => {
  const names = hostileTargets({ v4: 1, v6: 1 })
    .filter((target) => target.metadataName)
    .map((target) => target.label);

  test.each(names)('%s: no DNS query, no socket, even where the name would resolve to a public address', async (label) => {
    const target = targetNamed(label);
    const host = new URL(target.url).hostname.toLowerCase().replace(/\.+$/, '');
    dnsOverrides.set(host, () => [{ address: '8.8.8.8', family: 4 }]);
    const error = await refusal(strict.request(target.url));
    expect(error.reason).toBe('blocked_address');
    expect(events).toEqual([]);
    expect(connectSpy).not.toHaveBeenCalled();
  });
});

describe('the same loopback targets with allowPrivate: true reach the canaries (so the address rule is what blocks)', () => {
  const reachable = hostileTargets({ v4: 1, v6: 1 })
    .filter((target) => target.canary)
    .map((target) => target.label);

  /**
   * Over http, the canary's answer and one connection. Over https, the canary (plain HTTP) fails the
   * TLS handshake after the TCP connection it counts. With no ::1 on this host, the v6 forms cannot
   * connect anywhere.
   */
  function expectedReach(url: string, canaryListening: boolean) {
    if (!canaryListening) return { outcome: { refused: 'connect_failed' }, connections: 0 };
    if (url.startsWith('https:')) return { outcome: { refused: 'connect_failed' }, connections: 1 };
    return { outcome: { status: 200, body: CANARY_BODY }, connections: 1 };
  }

  test('a loopback form of every kind is in this list', () => {
    expect(reachable.length).toBeGreaterThanOrEqual(25);
  });

  test.each(reachable)('%s', async (label) => {
    const target = targetNamed(label);
    const server = target.canary === 'v6' ? canary6 : canary4;
    const before = server?.connections ?? 0;
    const outcome = await permissive.request(target.url).then(
      (response) => ({ status: response.status, body: response.body.toString() }),
      (error: unknown) => ({ refused: error instanceof OutboundError ? error.reason : `threw ${String(error)}` }),
    );
    await sleep(10);
    const connections = (server?.connections ?? 0) - before;

    expect({ outcome, connections }).toEqual(expectedReach(target.url, server !== null));
  });
});

describe('DNS: names are checked by the lookup the socket itself uses', () => {
  test('localhost resolved by the system resolver (/etc/hosts, not the stub) is refused', async () => {
    dnsSpy.mockRestore();
    try {
      const hosts = readFileSync('/etc/hosts', 'utf8');
      // Only where /etc/hosts answers for localhost, so no query leaves this host.
      expect(hosts).toMatch(/^\s*(127\.0\.0\.1|::1)\s.*\blocalhost\b/m);
      const before = canaryConnections();
      const error = await refusal(strict.request(`http://localhost:${ports.v4}/`));
      expect(error.reason).toBe('blocked_address');
      expect(connectLog.flatMap((record) => record.resolved)).toEqual([]);
      await sleep(20);
      expect(canaryConnections() - before).toBe(0);
      // and the same real lookup does reach the canary when the rule is lifted
      const allowed = await permissive.request(`http://localhost:${ports.v4}/`);
      expect(allowed.body.toString()).toBe(CANARY_BODY);
    } finally {
      dnsSpy = jest.spyOn(dns, 'lookup').mockImplementation(stubLookup);
    }
  });

  test('rebinding: the name answers public to any check, loopback to the socket: the socket-time answer decides', async () => {
    // An attacker's DNS: whoever asks outside a connection (a validator checking first) gets a public
    // address; the lookup made while the socket connects gets loopback. A check-then-connect client
    // would approve the name and then connect to the canary.
    dnsOverrides.set('flip.rebind.test', ({ insideConnect }) =>
      insideConnect ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '8.8.8.8', family: 4 }],
    );
    const checked = await resolveAll('flip.rebind.test');
    expect(checked.map((entry) => entry.address)).toEqual(['8.8.8.8']);
    expect(isBlockedAddress('8.8.8.8')).toBe(false);
    events.length = 0;
    const before = canaryConnections();
    const error = await refusal(strict.request(`http://flip.rebind.test:${ports.v4}/`));
    expect(error.reason).toBe('blocked_address');
    // the only lookup the client made is the one inside the socket's connect
    expect(events).toEqual(['socket.connect flip.rebind.test', 'dns.lookup flip.rebind.test (inside socket.connect)']);
    expect(connectLog.flatMap((record) => record.attempts)).toEqual([]);
    await sleep(20);
    expect(canaryConnections() - before).toBe(0);
    // and with the rule lifted the very same name does reach the canary: the answer is what blocked
    const allowed = await permissive.request(`http://flip.rebind.test:${ports.v4}/`);
    expect(allowed.body.toString()).toBe(CANARY_BODY);
  });

  test("rebinding: the client's lookup judges every answer afresh (public, then loopback, then public)", async () => {
    const answers: StubAddress[][] = [
      [{ address: '1.1.1.1', family: 4 }],
      [{ address: '127.0.0.1', family: 4 }],
      [{ address: '2606:4700:4700::1111', family: 6 }],
    ];
    let asked = 0;
    dnsOverrides.set('flap.rebind.test', () => answers[asked++ % answers.length]);
    const lookup = strict['lookup'];
    const ask = () =>
      new Promise<{ error: NodeJS.ErrnoException | null; addresses: dns.LookupAddress[] }>((resolve) =>
        lookup('flap.rebind.test', { all: true }, (error, addresses) => resolve({ error, addresses: addresses as dns.LookupAddress[] })),
      );
    const first = await ask();
    const second = await ask();
    const third = await ask();
    expect(first.error).toBeNull();
    expect(first.addresses).toEqual([{ address: '1.1.1.1', family: 4 }]);
    expect(second.error).toBeInstanceOf(OutboundError);
    expect((second.error as OutboundError).reason).toBe('blocked_address');
    expect(third.error).toBeNull();
    expect(third.addresses).toEqual([{ address: '2606:4700:4700::1111', family: 6 }]);
    expect(connectSpy).not.toHaveBeenCalled();
  });

  test('every request resolves afresh: no pooled socket, no cached answer', async () => {
    let asked = 0;
    dnsOverrides.set('counted.rebind.test', () => {
      asked += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    });
    const before = canary4.connections;
    for (let i = 0; i < 3; i += 1) {
      const response = await permissive.request(`http://counted.rebind.test:${ports.v4}/`);
      expect(response.status).toBe(200);
    }
    await sleep(20);
    expect(asked).toBe(3);
    expect(connectSpy).toHaveBeenCalledTimes(3);
    expect(canary4.connections - before).toBe(3);
    // and once the answer turns private, the next request is refused
    dnsOverrides.set('counted.rebind.test', () => [{ address: '127.0.0.1', family: 4 }]);
    expect((await refusal(strict.request(`http://counted.rebind.test:${ports.v4}/`))).reason).toBe('blocked_address');
  });

  test('a name that does not resolve is dns_failed, with no connection', async () => {
    dnsOverrides.set('nowhere.rebind.test', () => []);
    const error = await refusal(strict.request('http://nowhere.rebind.test/'));
    expect(error.reason).toBe('dns_failed');
    expect(connectLog.flatMap((record) => record.attempts)).toEqual([]);
  });
});

describe('redirects are refused, and the second target is never contacted', () => {
  const BODY_CANARY = `redirect-body-${randomUUID()}`;
  let redirector: TestServer;
  let status = 302;
  let location = 'http://169.254.169.254/latest/meta-data/';
  beforeAll(async () => {
    redirector = await serve((_request, response) => {
      response.writeHead(status, { location, 'content-type': 'text/plain' });
      response.end(BODY_CANARY);
    });
  });
  afterAll(() => redirector.close());

  test.each([301, 302, 303, 307, 308])('%i to http://169.254.169.254/latest/meta-data/', async (code) => {
    status = code;
    location = 'http://169.254.169.254/latest/meta-data/';
    const before = fenceTrips.length;
    const error = await refusal(permissive.request(`http://127.0.0.1:${redirector.port}/start`));
    expect(error.reason).toBe('redirect_refused');
    expect(connectSpy).toHaveBeenCalledTimes(1);
    expect(connectLog.map((record) => record.host)).toEqual(['127.0.0.1']);
    expect(fenceTrips.length - before).toBe(0);
    expect(everythingIn(error)).not.toContain(BODY_CANARY);
    expect(everythingIn(error)).not.toContain('169.254.169.254');
  });

  test('302 to the loopback canary: the canary is never contacted', async () => {
    status = 302;
    location = `http://127.0.0.1:${ports.v4}/?${BODY_CANARY}`;
    const before = canaryConnections();
    const error = await refusal(permissive.request(`http://127.0.0.1:${redirector.port}/start`));
    expect(error.reason).toBe('redirect_refused');
    expect(connectSpy).toHaveBeenCalledTimes(1);
    await sleep(50);
    expect(canaryConnections() - before).toBe(0);
    expect(everythingIn(error)).not.toContain(BODY_CANARY);
  });

  test('through the fetch adapter too', async () => {
    status = 307;
    location = `http://127.0.0.1:${ports.v4}/`;
    const before = canaryConnections();
    const error = await refusal(permissive.fetch(`http://127.0.0.1:${redirector.port}/start`, { method: 'POST', body: 'x' }));
    expect(error.reason).toBe('redirect_refused');
    await sleep(50);
    expect(canaryConnections() - before).toBe(0);
  });
});

describe('timeouts', () => {
  let silent: TestServer;
  let dripping: TestServer;
  beforeAll(async () => {
    // accepts and reads the request, never answers
    silent = await serve(() => undefined);
    // answers headers, then one byte every 50 ms, never ends
    dripping = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => response.write('.'), 50);
      response.on('close', () => clearInterval(timer));
    });
  });
  afterAll(async () => {
    await silent.close();
    await dripping.close();
  });

  const quick = new OutboundClient({ allowPrivate: true, connectTimeoutMs: 200, totalTimeoutMs: 500 });

  test('connect timeout: a lookup that never answers gives up after connectTimeoutMs', async () => {
    dnsOverrides.set('stall.rebind.test', () => 'stall');
    const started = performance.now();
    const error = await refusal(quick.request('http://stall.rebind.test/'));
    const elapsed = performance.now() - started;
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/connect/); // the connect deadline, not the total one
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    expect(connectLog.flatMap((record) => record.attempts)).toEqual([]);
  });

  test('total timeout: a server that accepts and never answers is dropped after totalTimeoutMs', async () => {
    const started = performance.now();
    const error = await refusal(quick.request(`http://127.0.0.1:${silent.port}/`));
    const elapsed = performance.now() - started;
    expect(error.reason).toBe('timeout');
    expect(error.message).not.toMatch(/connect/); // connected at once: the total deadline fired
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(3000);
    await sleep(50);
    expect(silent.connections).toBeGreaterThanOrEqual(1);
    expect(silent.closed).toBe(silent.connections); // the client closed its socket
  });

  test('total timeout covers the body: a trickle that never ends is dropped after totalTimeoutMs', async () => {
    const started = performance.now();
    const error = await refusal(quick.request(`http://127.0.0.1:${dripping.port}/`));
    const elapsed = performance.now() - started;
    expect(error.reason).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(3000);
    await sleep(50);
    expect(dripping.closed).toBe(dripping.connections);
  });

  test('defaults: connect gives up after 3 s and the whole call after 10 s', async () => {
    const defaults = new OutboundClient({ allowPrivate: true });
    dnsOverrides.set('stall.rebind.test', () => 'stall');
    const timed = async (promise: Promise<unknown>) => {
      const started = performance.now();
      const error = await refusal(promise);
      return { reason: error.reason, elapsed: performance.now() - started };
    };
    const [connect, total] = await Promise.all([
      timed(defaults.request('http://stall.rebind.test/')),
      timed(defaults.request(`http://127.0.0.1:${silent.port}/`)),
    ]);
    expect(connect.reason).toBe('timeout');
    expect(connect.elapsed).toBeGreaterThanOrEqual(2990);
    expect(connect.elapsed).toBeLessThan(6000);
    expect(total.reason).toBe('timeout');
    expect(total.elapsed).toBeGreaterThanOrEqual(9990);
    expect(total.elapsed).toBeLessThan(14_000);
  }, 25_000);
});

describe('response bodies: capped, and never in an error', () => {
  const BODY_CANARY = `body-canary-${randomUUID()}`;
  let server: TestServer;
  let endless: TestServer;
  let endlessBytes = 0;
  beforeAll(async () => {
    server = await serve((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      const size = Number(url.searchParams.get('size') ?? '0');
      const fill = Buffer.alloc(size, 'a');
      switch (url.pathname) {
        case '/sized': {
          // the canary first, padded to exactly `size` bytes, in 1000-byte chunks
          const body = Buffer.concat([Buffer.from(BODY_CANARY), fill]).subarray(0, size);
          response.writeHead(200, { 'content-type': 'text/plain' });
          for (let offset = 0; offset < body.length; offset += 1000) response.write(body.subarray(offset, offset + 1000));
          response.end();
          return;
        }
        case '/error':
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`internal failure: ${BODY_CANARY}`);
          return;
        case '/cut':
          // promises 10 000 bytes, sends the canary, then hangs up
          response.writeHead(200, { 'content-length': '10000' });
          response.write(BODY_CANARY, () => setTimeout(() => response.socket?.destroy(), 20));
          return;
        default:
          response.writeHead(404);
          response.end();
      }
    });
    endless = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 'z');
      const pump = () => {
        while (!response.destroyed && response.write(chunk)) endlessBytes += chunk.length;
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
  });
  afterAll(async () => {
    await server.close();
    await endless.close();
  });

  const capped = new OutboundClient({ allowPrivate: true, maxResponseBytes: 1024, totalTimeoutMs: 5000 });

  test('a body of exactly maxResponseBytes is returned whole', async () => {
    const response = await capped.request(`http://127.0.0.1:${server.port}/sized?size=1024`);
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(1024);
  });

  test('one byte over maxResponseBytes is response_too_large, and the error does not carry the body', async () => {
    const error = await refusal(capped.request(`http://127.0.0.1:${server.port}/sized?size=1025`));
    expect(error.reason).toBe('response_too_large');
    expect(everythingIn(error)).not.toContain(BODY_CANARY);
  });

  test('an endless body is cut off at the cap and the connection closed', async () => {
    const closedBefore = endless.closed;
    const error = await refusal(capped.request(`http://127.0.0.1:${endless.port}/`));
    expect(error.reason).toBe('response_too_large');
    await sleep(100);
    expect(endless.closed - closedBefore).toBe(1);
    const sent = endlessBytes;
    await sleep(100);
    expect(endlessBytes).toBe(sent); // the server stopped: nothing reads any more
  });

  test('the default cap is 1 MiB', async () => {
    const defaults = new OutboundClient({ allowPrivate: true });
    const whole = await defaults.request(`http://127.0.0.1:${server.port}/sized?size=${1024 * 1024}`);
    expect(whole.body.length).toBe(1024 * 1024);
    const error = await refusal(defaults.request(`http://127.0.0.1:${server.port}/sized?size=${1024 * 1024 + 1}`));
    expect(error.reason).toBe('response_too_large');
    expect(everythingIn(error)).not.toContain(BODY_CANARY);
  });

  test('a connection cut mid-body is an error without the part received', async () => {
    const error = await refusal(capped.request(`http://127.0.0.1:${server.port}/cut`));
    expect(error.reason).toBe('connect_failed');
    expect(everythingIn(error)).not.toContain(BODY_CANARY);
  });

  test('a 500 is a response (status and body to the code that called), never an error carrying the body', async () => {
    const response = await capped.request(`http://127.0.0.1:${server.port}/error`);
    expect(response.status).toBe(500);
    expect(response.body.toString()).toContain(BODY_CANARY);
  });

  describe('through GoogleVertexValidator (the client of this module): nothing of a body reaches its result', () => {
    let google: TestServer;
    let mode: { token: 'ok' | 'error' | 'huge'; vertex: 'ok' | 'error' | 'huge' } = { token: 'ok', vertex: 'ok' };
    let validator: GoogleVertexValidator;
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const auth = {
      type: 'GOOGLE_SERVICE_ACCOUNT' as const,
      clientEmail: 'probe@vault-test.iam.gserviceaccount.com',
      privateKey,
      privateKeyId: 'k1',
      projectId: 'vault-test',
    };
    const call = { projectId: 'vault-test', location: 'us-central1', model: 'gemini-2.5-flash' };

    beforeAll(async () => {
      google = await serve((request, response) => {
        const which = request.url?.startsWith('/token') ? mode.token : mode.vertex;
        request.resume();
        request.on('end', () => {
          if (which === 'ok') {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(
              request.url?.startsWith('/token')
                ? JSON.stringify({ access_token: 'ya29.test', expires_in: 3600, token_type: 'Bearer' })
                : JSON.stringify({ totalTokens: 1 }),
            );
          } else if (which === 'error') {
            response.writeHead(500, { 'content-type': 'application/json' });
            response.end(JSON.stringify({ error_description: BODY_CANARY, message: BODY_CANARY }));
          } else {
            response.writeHead(200, { 'content-type': 'application/json' });
            response.end(JSON.stringify({ padding: BODY_CANARY.repeat(100) }));
          }
        });
      });
      validator = new GoogleVertexValidator({
        outbound: capped,
        tokenUrl: `http://127.0.0.1:${google.port}/token`,
        vertexApiEndpoint: `http://127.0.0.1:${google.port}`,
      });
    });
    afterAll(() => google.close());

    test('the happy path works through the outbound client', async () => {
      mode = { token: 'ok', vertex: 'ok' };
      const result = await validator.validate(auth, call);
      expect(result.checks.map((check) => [check.name, check.ok])).toEqual([
        ['token', true],
        ['vertex', true],
      ]);
    });

    test.each([
      { token: 'error', vertex: 'ok' },
      { token: 'huge', vertex: 'ok' },
      { token: 'ok', vertex: 'error' },
      { token: 'ok', vertex: 'huge' },
    ] as const)('token $token, vertex $vertex', async (failing) => {
      mode = { ...failing };
      const result = await validator.validate(auth, call);
      expect(result.ok).toBe(false);
      // the step that failed is the one whose server misbehaved, reported by status or size only
      const failedStep = failing.token === 'ok' ? 'vertex' : 'token';
      expect(result.checks.map((check) => [check.name, check.ok])).toEqual(
        failedStep === 'vertex'
          ? [
              ['token', true],
              ['vertex', false],
            ]
          : [['token', false]],
      );
      expect(result.message).toMatch(failing[failedStep] === 'error' ? /HTTP 500/ : /more than 1024 bytes/);
      expect(JSON.stringify(result)).not.toContain(BODY_CANARY);
    });
  });
});

describe('allowPrivate: true reaches loopback (the rule, not the network, is what blocks)', () => {
  test('status, headers and body come back from the canary', async () => {
    const before = canary4.connections;
    const response = await permissive.request(`http://127.0.0.1:${ports.v4}/hello`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.body.toString()).toBe(CANARY_BODY);
    await sleep(20);
    expect(canary4.connections - before).toBe(1);
    // the very same URL, strict
    expect((await refusal(strict.request(`http://127.0.0.1:${ports.v4}/hello`))).reason).toBe('blocked_address');
  });

  test('allowPrivate does not lift the scheme or credentials rules', async () => {
    expect((await refusal(permissive.request(`gopher://127.0.0.1:${ports.v4}/`))).reason).toBe('invalid_url');
    expect((await refusal(permissive.request(`http://user:pw@127.0.0.1:${ports.v4}/`))).reason).toBe('invalid_url');
    expect(connectSpy).not.toHaveBeenCalled();
  });
});

describe('fetch adapter', () => {
  let echo: TestServer;
  beforeAll(async () => {
    echo = await serve((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/empty') {
          response.writeHead(204);
          response.end();
          return;
        }
        response.writeHead(201, { 'content-type': 'application/json', 'x-served-by': 'echo' });
        response.end(
          JSON.stringify({
            method: request.method,
            url: request.url,
            probe: request.headers['x-probe'] ?? null,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
    });
  });
  afterAll(() => echo.close());

  test('returns a standard Response with status, headers and body', async () => {
    const response = await permissive.fetch(`http://127.0.0.1:${echo.port}/path?q=1`);
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get('x-served-by')).toBe('echo');
    expect(await response.json()).toEqual({ method: 'GET', url: '/path?q=1', probe: null, body: '' });
  });

  test('sends method, headers and a string or URLSearchParams body; takes a URL object', async () => {
    const posted = await permissive.fetch(new URL(`http://127.0.0.1:${echo.port}/form`), {
      method: 'POST',
      headers: { 'x-probe': 'yes', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'x', assertion: 'y' }),
    });
    expect(await posted.json()).toEqual({ method: 'POST', url: '/form', probe: 'yes', body: 'grant_type=x&assertion=y' });
    const put = await permissive.fetch(`http://127.0.0.1:${echo.port}/text`, {
      method: 'PUT',
      headers: new Headers({ 'x-probe': 'h' }),
      body: 'plain',
    });
    expect(await put.json()).toEqual({ method: 'PUT', url: '/text', probe: 'h', body: 'plain' });
  });

  test('takes a Request, honouring its URL, method, headers and body', async () => {
    const response = await permissive.fetch(
      new Request(`http://127.0.0.1:${echo.port}/req`, { method: 'POST', headers: { 'x-probe': 'r' }, body: 'from-request' }),
    );
    expect(await response.json()).toEqual({ method: 'POST', url: '/req', probe: 'r', body: 'from-request' });
  });

  test('204 has a null body', async () => {
    const response = await permissive.fetch(`http://127.0.0.1:${echo.port}/empty`);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  test('a blocked target is refused with an OutboundError and no socket', async () => {
    for (const input of [
      'http://169.254.169.254/latest/meta-data/',
      new URL(`http://127.0.0.1:${ports.v4}/`),
      new Request('http://[fd00:ec2::254]/'),
    ]) {
      expect((await refusal(strict.fetch(input))).reason).toBe('blocked_address');
    }
    expect(connectSpy).not.toHaveBeenCalled();
  });

  test('a body it cannot send is refused before any connection', async () => {
    const error = await refusal(permissive.fetch(`http://127.0.0.1:${echo.port}/`, { method: 'POST', body: new Blob(['x']) }));
    expect(error.reason).toBe('invalid_url');
    expect(connectSpy).not.toHaveBeenCalled();
  });
});

describe('isBlockedAddress', () => {
  test.each([
    ['169.254.169.254', 'metadata (link-local)'],
    ['169.254.170.2', 'ECS metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback /8'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network'],
    ['10.0.0.1', 'private 10/8'],
    ['10.255.255.255', 'private 10/8 top'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12 top'],
    ['192.168.0.1', 'private 192.168/16'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.255', 'CGNAT top'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.0.1', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'IPv6 loopback'],
    ['[::1]', 'bracketed'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'IPv6 link-local with zone'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'AWS IMDS IPv6'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:0:7f00:1', 'IPv4-translated loopback'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of metadata'],
    ['64:ff9b:1::7f00:1', 'local-use NAT64 of loopback'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['2002:a9fe:a9fe::', '6to4 of metadata'],
    ['2001:0:7f00:1::1', 'Teredo'],
    ['fec0::1', 'deprecated site-local'],
    ['::7f00:1', 'IPv4-compatible loopback (::127.0.0.1)'],
    ['::a9fe:a9fe', 'IPv4-compatible metadata (::169.254.169.254)'],
    ['not-an-address', 'garbage fails closed'],
    ['', 'empty fails closed'],
  ])('%s (%s) is blocked', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  test.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['172.32.0.1'],
    ['100.128.0.1'],
    ['2606:4700:4700::1111'],
    ['2001:4860:4860::8888'],
    ['::ffff:8.8.8.8'],
  ])('%s (public unicast) is allowed', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe('the whole file', () => {
  test('no test after the corpus had a connection stopped by the fence, and no name went to an unknown resolver entry', () => {
    expect(fenceTrips.slice(fenceTripsAfterCorpus)).toEqual([]);
    expect(unexpectedNames).toEqual([]);
  });
});
