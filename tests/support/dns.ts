import { createSocket, type RemoteInfo } from 'node:dgram';

/** A DNS server on loopback that answers A queries for the names it is given, as a container platform's does. */
export interface DnsServer {
  /** `127.0.0.1:<port>`, as nginx's `resolver` takes it. */
  address: string;
  /** Sets the addresses `name` resolves to (none: the name is unknown). */
  set(name: string, addresses: string[]): void;
  /** A queries answered, by name. */
  queries(name: string): number;
  close(): Promise<void>;
}

const TYPE_A = 1;
const CLASS_IN = 1;

/** The question's name (labels), type and where the question ends, from a query (RFC 1035 4.1). */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at]!;
    if (length > 63) return undefined; // a compression pointer: never in a question here
    labels.push(query.subarray(at + 1, at + 1 + length).toString('ascii'));
    at += 1 + length;
  }
  if (at + 5 > query.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at + 1), end: at + 5 };
}

/**
 * Starts the server. Every answer has a TTL of 0: the asker (nginx, with `valid=1s`) decides how long to
 * cache. A name it does not know is answered NXDOMAIN; a known name asked for another type, no records.
 */
export function startDns(records: Record<string, string[]> = {}): Promise<DnsServer> {
  const names = new Map(Object.entries(records).map(([name, addresses]) => [name.toLowerCase(), addresses]));
  const asked = new Map<string, number>();
  const socket = createSocket('udp4');
  socket.on('message', (query: Buffer, from: RemoteInfo) => {
    const question = readQuestion(query);
    if (!question) return;
    const addresses = names.get(question.name);
    const answers = question.type === TYPE_A ? (addresses ?? []) : [];
    if (question.type === TYPE_A) asked.set(question.name, (asked.get(question.name) ?? 0) + 1);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the query's id
    // A response (QR), recursion desired and available, NXDOMAIN (3) for an unknown name.
    header.writeUInt16BE(0x8180 | (addresses === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((address) => {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(TYPE_A, 2);
      record.writeUInt16BE(CLASS_IN, 4);
      record.writeUInt32BE(0, 6);
      record.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
      return record;
    });
    socket.send(Buffer.concat([header, query.subarray(12, question.end), ...records]), from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      resolve({
        address: `127.0.0.1:${socket.address().port}`,
        set: (name, addresses) => void names.set(name.toLowerCase(), addresses),
        queries: (name) => asked.get(name.toLowerCase()) ?? 0,
        close: () => new Promise((done) => socket.close(() => done())),
      });
    });
  });
}
