import { createServer } from 'node:http';
/**
 * A liveness endpoint for a process that serves no HTTP otherwise: 200 while the worker runs,
 * 503 once it is shutting down. It checks no dependency, so an outage never gets the worker restarted.
 */
export function startHealthServer(port, isClosing) {
    const server = createServer((req, res) => {
        const alive = req.url === '/healthz' && !isClosing();
        res.writeHead(req.url === '/healthz' ? (alive ? 200 : 503) : 404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ status: alive ? 'ok' : req.url === '/healthz' ? 'closing' : 'not found' }));
    });
    return server.listen(port);
}
//# sourceMappingURL=health-server.js.map