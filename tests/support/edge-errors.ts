/**
 * Requests the edge nginx refuses by itself, before any upstream sees them, with the JSON error each
 * must get. Shared by the native check of the config (edge.test.ts) and the compose test of the image.
 */
export interface EdgeErrorCase {
  what: string;
  request: string;
  status: number;
  code: string;
}

const close = 'Host: localhost\r\nConnection: close\r\nX-Request-Id: edge-case\r\n';

export const EDGE_ERROR_CASES: EdgeErrorCase[] = [
  {
    what: 'a malformed percent-encoding in the path',
    request: `GET /api/values/%E0%A4%A HTTP/1.1\r\n${close}\r\n`,
    status: 400,
    code: 'bad_request',
  },
  { what: 'TRACE', request: `TRACE /api/values HTTP/1.1\r\n${close}\r\n`, status: 405, code: 'method_not_allowed' },
  {
    what: 'a URI over 8 KB',
    request: `GET /api/values/${'9'.repeat(9_000)} HTTP/1.1\r\n${close}\r\n`,
    status: 414,
    code: 'uri_too_long',
  },
  {
    what: 'a header over 8 KB',
    request: `GET /api/values HTTP/1.1\r\n${close}X-Padding: ${'x'.repeat(9_000)}\r\n\r\n`,
    status: 400,
    code: 'bad_request',
  },
  {
    what: 'a transfer encoding nginx does not implement',
    request: `POST /api/values HTTP/1.1\r\n${close}Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n`,
    status: 501,
    code: 'not_implemented',
  },
  {
    what: 'HTTP/2.0 in an HTTP/1 request line',
    request: `GET /api/values HTTP/2.0\r\n${close}\r\n`,
    status: 505,
    code: 'http_version_not_supported',
  },
  {
    what: 'a body over 32 KB',
    request: `POST /api/values HTTP/1.1\r\n${close}Content-Type: application/json\r\nContent-Length: 40000\r\n\r\n${' '.repeat(40_000)}`,
    status: 413,
    code: 'payload_too_large',
  },
];
