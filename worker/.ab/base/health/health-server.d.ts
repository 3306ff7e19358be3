import { type Server } from 'node:http';
/**
 * A liveness endpoint for a process that serves no HTTP otherwise: 200 while the worker runs,
 * 503 once it is shutting down. It checks no dependency, so an outage never gets the worker restarted.
 */
export declare function startHealthServer(port: number, isClosing: () => boolean): Server;
