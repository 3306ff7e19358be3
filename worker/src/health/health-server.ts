import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * The worker's own HTTP port (it serves nothing else): `GET /healthz` for liveness, 200 while the worker
 * runs and 503 once it is shutting down, checking no dependency so an outage never gets the worker
 * restarted; and `GET /metrics` for Prometheus when a registry is given.
 */
export function startHealthServer(port: number, isClosing: () => boolean, metrics?: Registry): Server {
  const server = createServer((req, res) => {
    if (req.url === '/metrics' && metrics) {
      metrics.metrics().then(
        (body) => {
          res.writeHead(200, { 'Content-Type': metrics.contentType });
          res.end(body);
        },
        () => {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ status: 'metrics unavailable' }));
        },
      );
      return;
    }
    const alive = req.url === '/healthz' && !isClosing();
    res.writeHead(req.url === '/healthz' ? (alive ? 200 : 503) : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: alive ? 'ok' : req.url === '/healthz' ? 'closing' : 'not found' }));
  });
  return server.listen(port);
}
