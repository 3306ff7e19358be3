import { readFileSync } from 'node:fs';
interface N { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: N[] }
const p = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { head: N };
const pkg = (url: string) => { const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url); if (m) return m[1]!; if (url.includes('/dist/')) return url.replace(/.*wt-14\//, ''); return url || '(native)'; };
const byOwner = new Map<string, number>(); const byFn = new Map<string, number>();
let total = 0;
const walk = (n: N, owner: string) => {
  const url = n.callFrame.url;
  const own = url.includes('node_modules') || url.includes('/dist/') ? pkg(url) : owner;
  total += n.selfSize;
  byOwner.set(own, (byOwner.get(own) ?? 0) + n.selfSize);
  const k = `${n.callFrame.functionName} ${pkg(url)}:${n.callFrame.lineNumber}`; byFn.set(k, (byFn.get(k) ?? 0) + n.selfSize);
  for (const c of n.children) walk(c, own);
};
walk(p.head, '(node core)');
console.log('total MB', (total / 1e6).toFixed(1));
for (const [k, v] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log((100 * v / total).toFixed(1).padStart(5) + '%', k);
console.log('---');
for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((100 * v / total).toFixed(1).padStart(5) + '%', k);
