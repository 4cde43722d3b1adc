// Servers on this host for tests: listening on an ephemeral port, an HTTP server in one call,
// closing one with its open connections, reading a request body with a size limit (the plumbing
// the fake Google Cloud and the fake STS share), and peers that refuse or never answer.
import http from 'node:http';
import net from 'node:net';

/** Starts `server` listening (by default on 127.0.0.1, on a port the system picks) and returns its port. */
export function listen(server: net.Server, host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export interface LoopbackHttpServer {
  server: http.Server;
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
}

/** An HTTP server for `handler`, listening on 127.0.0.1. */
export async function startHttpServer(handler: http.RequestListener): Promise<LoopbackHttpServer> {
  const server = http.createServer(handler);
  const port = await listen(server);
  return { server, port, base: `http://127.0.0.1:${port}` };
}

/** Stops `server` and ends every connection it still has open, idle or not. */
export function closeHttpServer(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/** A request's whole body; past `maxBytes` the request is destroyed and the promise rejects with `tooLarge()`. */
export function readBody(request: http.IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(tooLarge());
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** A loopback port nothing listens on (it was bound and released a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SilentPeer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** connections accepted so far */
  connections: number;
  close(): Promise<void>;
}

/** A TCP peer on loopback that accepts connections, reads what is sent and never answers. */
export async function startSilentPeer(): Promise<SilentPeer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    base: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
