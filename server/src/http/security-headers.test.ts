import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../app.js';
import { securityHeaders } from './security-headers.js';

function headersFrom(middleware: express.RequestHandler) {
  const app = express();
  app.disable('x-powered-by');
  app.use(middleware);
  app.get('/', (_req, res) => void res.json({}));
  return request(app)
    .get('/')
    .then(({ headers }) => {
      const { date: _date, etag: _etag, ...rest } = headers;
      return rest;
    });
}

describe('precomputed security headers', () => {
  it("send exactly helmet's headers for the app's options", async () => {
    const ours = await headersFrom(securityHeaders(SECURITY_HEADERS));
    expect(ours).toEqual(await headersFrom(helmet(SECURITY_HEADERS)));
    expect(ours['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(ours['strict-transport-security']).toBeDefined();
  });

  it('refuse options whose Content-Security-Policy is computed per request', () => {
    const nonce = () => "'nonce-abc'";
    expect(() => securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", nonce] } } })).toThrow(/per request/);
  });
});
