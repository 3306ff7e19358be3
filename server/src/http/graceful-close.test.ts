import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { gracefulCloser } from './graceful-close.js';

/** A server whose answers wait until the test releases them. */
function holdingServer() {
  const held: Array<() => void> = [];
  const arrived: Array<() => void> = [];
  const server = createServer((req, res) => {
    held.push(() => res.end(`answered ${req.url}`));
    arrived.splice(0).forEach((wake) => wake());
  });
  const close = gracefulCloser(server);
  return {
    server,
    close,
    releaseAll: () => held.splice(0).forEach((release) => release()),
    /** Resolves once the server holds `n` requests. */
    holding: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (held.length >= n ? resolve() : arrived.push(check));
        check();
      }),
  };
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function get(port: number, path: string, agent: Agent): Promise<{ res: IncomingMessage; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      const socket = res.socket;
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ res, body, socket }));
    });
    req.on('error', reject).end();
  });
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => resolve('connected'));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('gracefulCloser', () => {
  it('finishes a request in flight, tells it Connection: close, and stops listening', async () => {
    const { server, close, releaseAll, holding } = holdingServer();
    const port = await listen(server);
    const agent = new Agent({ keepAlive: true });
    const inFlight = get(port, '/slow', agent);
    await holding(1);
    const closed = close(10_000);
    expect(await refused(port)).toBe('ECONNREFUSED');
    releaseAll();
    const { res, body } = await inFlight;
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(body).toBe('answered /slow');
    await closed;
    agent.destroy();
  });

  it('closes connections left idle, after a short grace, without waiting for the timeout', async () => {
    const { server, close, releaseAll, holding } = holdingServer();
    const port = await listen(server);
    const agent = new Agent({ keepAlive: true });
    const first = get(port, '/one', agent);
    await holding(1);
    releaseAll();
    const { res, socket } = await first;
    expect(res.headers.connection).toBe('keep-alive');
    const socketClosed = once(socket, 'close');
    // Far longer than this test may take: only closing the idle socket can end the close in time.
    await close(60_000);
    await socketClosed;
    agent.destroy();
  });

  it('answers a request that arrives on a kept-alive connection while closing with Connection: close', async () => {
    const { server, close, releaseAll, holding } = holdingServer();
    const port = await listen(server);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const answers = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => ((received.match(/answered \//g)?.length ?? 0) >= n ? resolve() : setTimeout(check, 10));
        check();
      });
    socket.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
    await holding(1);
    releaseAll();
    await answers(1);
    expect(received).toMatch(/^HTTP\/1\.1 200 [^]*\r\nConnection: keep-alive\r\n/i);

    const closed = close(10_000);
    socket.write('GET /two HTTP/1.1\r\nHost: x\r\n\r\n');
    await holding(1);
    releaseAll();
    await answers(2);
    const second = received.slice(received.lastIndexOf('HTTP/1.1 '));
    expect(second).toMatch(/^HTTP\/1\.1 200 [^]*\r\nConnection: close\r\n[^]*answered \/two$/i);
    await closed;
    socket.destroy();
  });

  it('ends what is still open once timeoutMs has passed', async () => {
    const { server, close, holding } = holdingServer();
    const port = await listen(server);
    const agent = new Agent({ keepAlive: true });
    const stuck = get(port, '/never', agent).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await holding(1);
    await close(1_500);
    expect(await stuck).toBe('ECONNRESET');
    agent.destroy();
  });
});
