// A TCP proxy on loopback for tests that need a database which stops answering without touching
// the shared server. While paused it accepts connections and keeps every socket open, but moves no
// byte in either direction and reports no close: what a client sees of a frozen (SIGSTOPped)
// server or a black-holed network. Resumed, it delivers what it held, as a thawed server would.
import net from 'node:net';
import { listen } from './loopback';

export interface TcpProxy {
  port: number;
  /** `url` (a postgresql:// URL) with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  readonly paused: boolean;
  /** Connections accepted so far. */
  readonly connections: number;
  pause(): void;
  /**
   * Pauses as soon as a client sends bytes containing `text`, holding those bytes back: a freeze
   * that begins exactly before that statement reaches the server.
   */
  pauseWhenClientSends(text: string): void;
  resume(): void;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** Bytes read from one side while paused, written to the other side on resume. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const links = new Set<Link>();
  let paused = false;
  let connections = 0;
  let trigger: Buffer | null = null;

  const pauseAll = () => {
    paused = true;
    for (const link of links) {
      link.client.pause();
      link.upstream.pause();
    }
  };

  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(target.port, target.host);
    const link: Link = { client, upstream, held: { toUpstream: [], toClient: [] } };
    links.add(link);
    if (paused) {
      client.pause();
      upstream.pause();
    }
    client.on('data', (chunk: Buffer) => {
      if (!paused && trigger && chunk.includes(trigger)) {
        trigger = null;
        pauseAll();
      }
      if (paused) link.held.toUpstream.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (paused) link.held.toClient.push(chunk);
      else client.write(chunk);
    });
    // A paused socket reads nothing, so its peer's end is only seen once the proxy resumes.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const drop = () => {
      client.destroy();
      upstream.destroy();
      links.delete(link);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  const port = await listen(server);

  return {
    port,
    urlFor(url: string) {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(port);
      return proxied.toString();
    },
    get paused() {
      return paused;
    },
    get connections() {
      return connections;
    },
    pause: pauseAll,
    pauseWhenClientSends(text: string) {
      trigger = Buffer.from(text);
    },
    resume() {
      paused = false;
      trigger = null;
      for (const link of links) {
        for (const chunk of link.held.toUpstream.splice(0)) link.upstream.write(chunk);
        for (const chunk of link.held.toClient.splice(0)) link.client.write(chunk);
        link.client.resume();
        link.upstream.resume();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of links) {
          link.client.destroy();
          link.upstream.destroy();
        }
        links.clear();
        server.close(() => resolve());
      }),
  };
}
