import { readFileSync } from 'node:fs';
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[]; hitCount?: number }
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const pkg = (url: string) => { const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url); if (m) return m[1]!; if (url.startsWith('node:')) return url; if (url.includes('/dist/')) return url.replace(/.*wt-14\//, ''); return url || '(native)'; };
const agg = (key: (n: Node) => string) => { const m = new Map<string, number>(); for (const [id, t] of self) { const k = key(byId.get(id)!); m.set(k, (m.get(k) ?? 0) + t); } return [...m].sort((a, b) => b[1] - a[1]); };
const pct = (t: number) => (100 * t / total).toFixed(1) + '%';
console.log('total sampled ms', (total / 1000).toFixed(0));
console.log('--- by package'); for (const [k, t] of agg((n) => pkg(n.callFrame.url)).slice(0, 30)) console.log(pct(t).padStart(6), k);
console.log('--- by function'); for (const [k, t] of agg((n) => `${n.callFrame.functionName || '(anon)'} ${pkg(n.callFrame.url)}:${n.callFrame.lineNumber}`).slice(0, 45)) console.log(pct(t).padStart(6), k);
// inclusive by frame names given
const incl = new Map<string, number>();
for (const [id, t] of self) { const seen = new Set<string>(); let cur: number | undefined = id; while (cur !== undefined) { const n = byId.get(cur)!; const k = `${n.callFrame.functionName} ${pkg(n.callFrame.url)}:${n.callFrame.lineNumber}`; if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + t); } cur = parent.get(cur); } }
console.log('--- inclusive'); for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 70)) console.log(pct(t).padStart(6), k);
// attribution: leaf → nearest ancestor in a package or our code
const owner = (id: number): string => {
  let cur: number | undefined = id;
  while (cur !== undefined) {
    const n = byId.get(cur)!; const url = n.callFrame.url;
    if (n.callFrame.functionName === '(garbage collector)') return '(gc)';
    if (n.callFrame.functionName === '(idle)') return '(idle)';
    if (url.includes('node_modules') || url.includes('/dist/')) return pkg(url);
    cur = parent.get(cur);
  }
  return '(node core, no package caller)';
};
const own = new Map<string, number>();
for (const [id, t] of self) { const k = owner(id); own.set(k, (own.get(k) ?? 0) + t); }
const busy = total - (own.get('(idle)') ?? 0);
console.log('--- attributed (share of busy time)');
for (const [k, t] of [...own].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((100 * t / busy).toFixed(1).padStart(5) + '%', k);
const focus = process.argv[3];
if (focus) {
  const m = new Map<string, number>();
  for (const [id, t] of self) { if (owner(id) !== focus) continue; const n = byId.get(id)!; const k = `${n.callFrame.functionName} ${pkg(n.callFrame.url)}:${n.callFrame.lineNumber}`; m.set(k, (m.get(k) ?? 0) + t); }
  console.log('--- inside', focus);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((100 * t / busy).toFixed(1).padStart(5) + '%', k);
}
