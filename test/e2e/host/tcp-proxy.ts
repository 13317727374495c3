import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A loopback TCP proxy between the client services and the relay, so a test can pull the
 * network cable: `cut()` destroys every open connection and refuses new ones until `restore()`.
 */
export interface TcpProxy {
  readonly url: string;
  /** Drops every connection (as a dead Wi-Fi would) and refuses new ones. */
  cut(): void;
  restore(): void;
  /** Answers every new request with this HTTP status (an overloaded relay or a proxy in front of it), dropping open connections. */
  answer(status: 503 | 429): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (ephemeral port) forwarding to `target` (an http URL). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let isCut = false;
  let answering: number | null = null;
  const server: Server = createServer((inbound) => {
    if (isCut) {
      inbound.destroy();
      return;
    }
    if (answering !== null) {
      const status = answering;
      inbound.on('error', () => inbound.destroy());
      inbound.once('data', () => {
        const body = JSON.stringify({ error: { code: status === 503 ? 'OVERLOADED' : 'RATE_LIMITED', message: 'busy' } });
        inbound.end(`HTTP/1.1 ${status} Busy\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      });
      return;
    }
    const outbound = connect(Number(port), hostname);
    sockets.add(inbound);
    sockets.add(outbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      isCut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      isCut = false;
      answering = null;
    },
    answer(status) {
      answering = status;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    get isCut() {
      return isCut;
    },
    async close() {
      isCut = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
