// Hostile destinations for the outbound client: cloud metadata (addresses, encodings and names),
// loopback in every spelling the WHATWG URL parser accepts, IPv6 and IPv4-embedding forms,
// private, CGNAT, multicast, reserved and unspecified ranges, host names whose DNS answer is one of
// those, non-http schemes and URLs with credentials. Every URL whose address is a loopback form
// carries the real port of a canary server listening on loopback, so a connection the client should
// not have made is counted there. `HOSTILE_DNS` is what the test's stand-in resolver answers: no name
// in this corpus is ever sent to a real DNS server.

import type { OutboundFailure } from '../../../src/validation/outbound';

export type HostileKind =
  /** the URL carries the address itself: refused before any socket exists */
  | 'literal'
  /** a host name: refused by name, or by what it resolves to when the socket connects */
  | 'name'
  /** not http(s) or not an absolute URL */
  | 'scheme'
  /** user name or password in the URL */
  | 'credentials';

export interface HostileTarget {
  label: string;
  url: string;
  kind: HostileKind;
  /** the OutboundError reason the client must give */
  reason: Extract<OutboundFailure, 'blocked_address' | 'invalid_url'>;
  /**
   * The loopback canary that takes the connection if the client connects (checked with
   * allowPrivate: true, so the corpus cannot point past its canaries by mistake).
   */
  canary?: 'v4' | 'v6';
  /** a name that only ever means a metadata service: refused by name, before any DNS query */
  metadataName?: true;
}

export interface CanaryPorts {
  /** canary on 127.0.0.1 */
  v4: number;
  /** canary on ::1 */
  v6: number;
}

export interface StubAddress {
  address: string;
  family: 4 | 6;
}

const v4 = (address: string): StubAddress => ({ address, family: 4 });
const v6 = (address: string): StubAddress => ({ address, family: 6 });

/**
 * The stand-in resolver's answers, by lower-case name without trailing dots. Metadata names answer
 * as they do inside Google Cloud and EC2, so a name that slipped past the name check is still caught
 * by the address check; `*.rebind.test` play an attacker's DNS zone (`.test` is reserved, RFC 6761).
 */
export const HOSTILE_DNS: Readonly<Record<string, readonly StubAddress[]>> = {
  localhost: [v4('127.0.0.1'), v6('::1')],
  'metadata.google.internal': [v4('169.254.169.254')],
  metadata: [v4('169.254.169.254')],
  'metadata.goog': [v4('169.254.169.254')],
  'instance-data': [v4('169.254.169.254')],
  'instance-data.ec2.internal': [v4('169.254.169.254')],
  'loopback.rebind.test': [v4('127.0.0.1')],
  'loopback6.rebind.test': [v6('::1')],
  'mapped-loopback.rebind.test': [v6('::ffff:127.0.0.1')],
  'unspecified.rebind.test': [v4('0.0.0.0')],
  'metadata.rebind.test': [v4('169.254.169.254')],
  'mapped-metadata.rebind.test': [v6('::ffff:169.254.169.254')],
  'imds6.rebind.test': [v6('fd00:ec2::254')],
  'private.rebind.test': [v4('10.0.0.5')],
  'cgnat.rebind.test': [v4('100.64.0.10')],
  'linklocal6.rebind.test': [v6('fe80::1')],
  // One public answer among private ones: the whole name is refused, not filtered down.
  'mixed.rebind.test': [v4('8.8.8.8'), v4('127.0.0.1')],
};

/** At least 60 hostile targets; loopback forms point at the canaries' ports. */
export function hostileTargets(ports: CanaryPorts): HostileTarget[] {
  const p4 = ports.v4;
  const p6 = ports.v6;
  const literal = (label: string, url: string, canary?: 'v4' | 'v6'): HostileTarget => ({
    label,
    url,
    kind: 'literal',
    reason: 'blocked_address',
    ...(canary ? { canary } : {}),
  });
  const name = (label: string, url: string, canary?: 'v4' | 'v6'): HostileTarget => ({
    label,
    url,
    kind: 'name',
    reason: 'blocked_address',
    ...(canary ? { canary } : {}),
  });
  const metadataName = (label: string, url: string): HostileTarget => ({
    label,
    url,
    kind: 'name',
    reason: 'blocked_address',
    metadataName: true,
  });
  const scheme = (label: string, url: string): HostileTarget => ({ label, url, kind: 'scheme', reason: 'invalid_url' });
  const credentials = (label: string, url: string): HostileTarget => ({ label, url, kind: 'credentials', reason: 'invalid_url' });

  return [
    // Cloud metadata by address.
    literal('metadata 169.254.169.254 (AWS path)', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'),
    literal('metadata 169.254.169.254 (Google path)', 'http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token'),
    literal('metadata over https', 'https://169.254.169.254/'),
    literal('metadata as decimal 2852039166', 'http://2852039166/latest/meta-data/'),
    literal('metadata as hex 0xa9fea9fe', 'http://0xa9fea9fe/latest/meta-data/'),
    literal('metadata as octal 0251.0376.0251.0376', 'http://0251.0376.0251.0376/'),
    literal('metadata as dotted hex 0xa9.0xfe.0xa9.0xfe', 'http://0xa9.0xfe.0xa9.0xfe/'),
    literal('metadata as single octal 025177524776', 'http://025177524776/'),
    literal('metadata short form 169.254.43518', 'http://169.254.43518/'),
    literal('metadata short form 169.16689662', 'http://169.16689662/'),
    literal('metadata mixed radix 0xa9.254.0251.0xfe', 'http://0xa9.254.0251.0xfe/'),
    literal('metadata with trailing dot', 'http://169.254.169.254./'),
    literal('ECS task metadata 169.254.170.2', 'http://169.254.170.2/v2/credentials/'),
    literal('other link-local 169.254.0.1', 'http://169.254.0.1/'),
    literal('AWS IMDS IPv6 [fd00:ec2::254]', 'http://[fd00:ec2::254]/latest/meta-data/'),
    literal('metadata IPv4-mapped [::ffff:169.254.169.254]', 'http://[::ffff:169.254.169.254]/'),
    literal('metadata IPv4-mapped hex [::ffff:a9fe:a9fe]', 'http://[::ffff:a9fe:a9fe]/'),
    literal('metadata IPv4-translated [::ffff:0:a9fe:a9fe]', 'http://[::ffff:0:a9fe:a9fe]/'),
    literal('metadata via NAT64 [64:ff9b::a9fe:a9fe]', 'http://[64:ff9b::a9fe:a9fe]/'),

    // Cloud metadata by name (and names whose answer is metadata).
    metadataName('metadata.google.internal', 'http://metadata.google.internal/computeMetadata/v1/'),
    metadataName('metadata.google.internal with trailing dot', 'http://metadata.google.internal./computeMetadata/v1/'),
    metadataName('METADATA.GOOGLE.INTERNAL upper case', 'http://METADATA.GOOGLE.INTERNAL/computeMetadata/v1/'),
    name('metadata.google.internal with two trailing dots', 'http://metadata.google.internal../computeMetadata/v1/'),
    metadataName('metadata.google.internal percent-encoded dots', 'http://metadata%2egoogle%2einternal/'),
    metadataName('metadata (short name)', 'http://metadata/computeMetadata/v1/'),
    metadataName('metadata.goog', 'http://metadata.goog/'),
    metadataName('instance-data', 'http://instance-data/latest/meta-data/'),
    metadataName('instance-data.ec2.internal', 'http://instance-data.ec2.internal/latest/meta-data/'),
    name('a name resolving to 169.254.169.254', 'http://metadata.rebind.test/latest/meta-data/'),
    name('a name resolving to ::ffff:169.254.169.254', 'http://mapped-metadata.rebind.test/'),
    name('a name resolving to fd00:ec2::254', 'http://imds6.rebind.test/latest/meta-data/'),

    // Loopback, IPv4 spellings: all reach the 127.0.0.1 canary if connected.
    literal('127.0.0.1', `http://127.0.0.1:${p4}/`, 'v4'),
    literal('127.0.0.1 over https', `https://127.0.0.1:${p4}/`, 'v4'),
    literal('short 127.1', `http://127.1:${p4}/`, 'v4'),
    literal('short 127.0.1', `http://127.0.1:${p4}/`, 'v4'),
    literal('decimal 2130706433', `http://2130706433:${p4}/`, 'v4'),
    literal('hex 0x7f000001', `http://0x7f000001:${p4}/`, 'v4'),
    literal('padded hex 0x00007f000001', `http://0x00007f000001:${p4}/`, 'v4'),
    literal('octal 0177.0.0.1', `http://0177.0.0.1:${p4}/`, 'v4'),
    literal('single octal 017700000001', `http://017700000001:${p4}/`, 'v4'),
    literal('dotted hex 0x7f.0.0.1', `http://0x7f.0.0.1:${p4}/`, 'v4'),
    literal('short hex 0x7f.1', `http://0x7f.1:${p4}/`, 'v4'),
    literal('zero-padded 127.000.000.001', `http://127.000.000.001:${p4}/`, 'v4'),
    literal('trailing dot 127.0.0.1.', `http://127.0.0.1.:${p4}/`, 'v4'),
    literal('percent-encoded dots 127%2e0%2e0%2e1', `http://127%2e0%2e0%2e1:${p4}/`, 'v4'),
    literal('full-width digits', `http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:${p4}/`, 'v4'),
    literal('ideographic full stops', `http://127\u30020\u30020\u30021:${p4}/`, 'v4'),
    literal('backslash before @ (parser confusion)', `http://127.0.0.1:${p4}\\@example.com/`, 'v4'),
    literal('elsewhere in 127/8: 127.127.127.127', `http://127.127.127.127:${p4}/`),

    // Loopback, IPv6 forms.
    literal('[::1]', `http://[::1]:${p6}/`, 'v6'),
    literal('[0:0:0:0:0:0:0:1]', `http://[0:0:0:0:0:0:0:1]:${p6}/`, 'v6'),
    literal('IPv4-mapped [::ffff:127.0.0.1]', `http://[::ffff:127.0.0.1]:${p4}/`, 'v4'),
    literal('IPv4-mapped hex [::ffff:7f00:1]', `http://[::ffff:7f00:1]:${p4}/`, 'v4'),
    literal('IPv4-mapped long [0:0:0:0:0:ffff:127.0.0.1]', `http://[0:0:0:0:0:ffff:127.0.0.1]:${p4}/`, 'v4'),
    literal('IPv4-compatible (deprecated) [::127.0.0.1]', `http://[::127.0.0.1]:${p4}/`),
    literal('IPv4-translated [::ffff:0:127.0.0.1]', `http://[::ffff:0:127.0.0.1]:${p4}/`),
    literal('NAT64 embedding loopback [64:ff9b::7f00:1]', `http://[64:ff9b::7f00:1]:${p4}/`),
    literal('local-use NAT64 embedding loopback [64:ff9b:1::7f00:1]', `http://[64:ff9b:1::7f00:1]:${p4}/`),
    literal('6to4 of loopback [2002:7f00:1::]', `http://[2002:7f00:1::]:${p4}/`),
    literal('Teredo [2001:0:7f00:1::1]', `http://[2001:0:7f00:1::1]:${p4}/`),

    // Unspecified: on Linux a connection to it lands on this host.
    literal('0.0.0.0', `http://0.0.0.0:${p4}/`, 'v4'),
    literal('0 (short for 0.0.0.0)', `http://0:${p4}/`, 'v4'),
    literal('0x0', `http://0x0:${p4}/`, 'v4'),
    literal('[::]', `http://[::]:${p6}/`, 'v6'),
    literal('IPv4-mapped unspecified [::ffff:0.0.0.0]', `http://[::ffff:0.0.0.0]:${p4}/`, 'v4'),
    literal('this network 0.1.2.3', 'http://0.1.2.3/'),

    // Names that resolve to loopback.
    name('localhost', `http://localhost:${p4}/`, 'v4'),
    name('localhost. (trailing dot)', `http://localhost.:${p4}/`, 'v4'),
    name('LOCALHOST. (upper case, trailing dot)', `http://LOCALHOST.:${p4}/`, 'v4'),
    name('a name resolving to 127.0.0.1', `http://loopback.rebind.test:${p4}/`, 'v4'),
    name('a name resolving to ::1', `http://loopback6.rebind.test:${p6}/`, 'v6'),
    name('a name resolving to ::ffff:127.0.0.1', `http://mapped-loopback.rebind.test:${p4}/`, 'v4'),
    name('a name resolving to 0.0.0.0', `http://unspecified.rebind.test:${p4}/`, 'v4'),
    name('a name resolving to a public and a loopback address', `http://mixed.rebind.test:${p4}/`),

    // Private, CGNAT and other non-public IPv4 ranges.
    literal('10.0.0.1', 'http://10.0.0.1/'),
    literal('10.255.255.254', 'http://10.255.255.254:8080/'),
    literal('172.16.0.1', 'http://172.16.0.1/'),
    literal('172.31.255.254', 'http://172.31.255.254/'),
    literal('192.168.0.1', 'http://192.168.0.1/'),
    literal('192.168.0.1 as hex 0xc0a80001', 'http://0xc0a80001/'),
    literal('10.0.0.1 IPv4-mapped', 'http://[::ffff:10.0.0.1]/'),
    literal('CGNAT 100.64.0.1', 'http://100.64.0.1/'),
    literal('CGNAT 100.127.255.254', 'http://100.127.255.254/'),
    literal('multicast 224.0.0.1', 'http://224.0.0.1/'),
    literal('multicast 239.255.255.250', 'http://239.255.255.250:1900/'),
    literal('broadcast 255.255.255.255', 'http://255.255.255.255/'),
    literal('benchmarking 198.18.0.1', 'http://198.18.0.1/'),
    literal('benchmarking 198.19.255.254', 'http://198.19.255.254/'),
    literal('IETF protocol 192.0.0.1', 'http://192.0.0.1/'),
    literal('DNS64 discovery 192.0.0.170', 'http://192.0.0.170/'),
    literal('TEST-NET-1 192.0.2.1', 'http://192.0.2.1/'),
    literal('reserved 240.0.0.1', 'http://240.0.0.1/'),
    name('a name resolving to 10.0.0.5', 'http://private.rebind.test/'),
    name('a name resolving to 100.64.0.10', 'http://cgnat.rebind.test/'),

    // Non-public IPv6 ranges.
    literal('link-local [fe80::1]', 'http://[fe80::1]/'),
    literal('unique local [fc00::1]', 'http://[fc00::1]/'),
    literal('unique local [fd12:3456:789a::1]', 'http://[fd12:3456:789a::1]/'),
    literal('multicast [ff02::1]', 'http://[ff02::1]/'),
    literal('multicast [ff05::1:3]', 'http://[ff05::1:3]/'),
    literal('site-local (deprecated) [fec0::1]', 'http://[fec0::1]/'),
    literal('documentation [2001:db8::1]', 'http://[2001:db8::1]/'),
    name('a name resolving to fe80::1', 'http://linklocal6.rebind.test/'),

    // Schemes other than http(s), and URLs that are not absolute.
    scheme('file:///etc/passwd', 'file:///etc/passwd'),
    scheme('file: with a metadata host', 'file://169.254.169.254/latest/meta-data/'),
    scheme('gopher: to the canary', `gopher://127.0.0.1:${p4}/_GET%20/%20HTTP/1.0%0D%0A%0D%0A`),
    scheme('ftp: to the canary', `ftp://127.0.0.1:${p4}/`),
    scheme('ws: to the canary', `ws://127.0.0.1:${p4}/`),
    scheme('dict: to the canary', `dict://127.0.0.1:${p4}/info`),
    scheme('data:', 'data:text/plain,hello'),
    scheme('javascript:', "javascript:fetch('http://169.254.169.254/')"),
    scheme('scheme-relative //169.254.169.254/', '//169.254.169.254/latest/meta-data/'),
    scheme('no scheme 169.254.169.254', '169.254.169.254/latest/meta-data/'),
    scheme('host:port read as a scheme', `localhost:${p4}`),

    // User info in the URL.
    credentials('user:password@127.0.0.1', `http://user:password@127.0.0.1:${p4}/`),
    credentials('password only @localhost', `http://:secret@localhost:${p4}/`),
    credentials('user@169.254.169.254', 'http://user@169.254.169.254/latest/meta-data/'),
    credentials('public-looking user before the loopback host', `http://example.com@127.0.0.1:${p4}/`),
    credentials('metadata address as user name', 'http://169.254.169.254@example.com/'),
  ];
}
