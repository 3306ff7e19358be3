import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = import.meta.dirname;
/** Each layer may import only from layers after it: app → features → lib. */
const LAYERS = ['app', 'features', 'lib'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

const layerOf = (file: string) => LAYERS.indexOf(relative(SRC, file).split('/')[0]!);

describe('client layers', () => {
  it('import only downwards (app → features → lib), so no module cycle can form between them', () => {
    const upward: string[] = [];
    for (const file of sources(SRC).filter((f) => layerOf(f) >= 0 && !/\.test\.tsx?$/.test(f))) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = resolve(dirname(file), specifier!);
        if (layerOf(target) >= 0 && layerOf(target) < layerOf(file)) upward.push(`${relative(SRC, file)} → ${specifier}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
