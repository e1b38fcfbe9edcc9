// Summarises a V8 .cpuprofile (as written by `node --cpu-prof`, e.g. by `BENCH_PROFILE=1 npm run bench`):
//   node dist/bench/profileSummary.js FILE.cpuprofile [top=30]
// Prints the functions with the most self time, and the most inclusive time (self + callees),
// each with its share of the non-idle samples.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function label(n: Node): string {
  const f = n.callFrame;
  const file = f.url ? f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/').replace(/^.*\/dist\//, 'dist/') : '';
  return `${f.functionName || '(anonymous)'} ${file ? `${path.basename(path.dirname(file))}/${path.basename(file)}:${f.lineNumber + 1}` : ''}`.trim();
}

function main(): void {
  process.stdout.on('error', () => process.exit(0)); // e.g. piped into head
  const [file, topText] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profileSummary.js FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  const top = Number(topText ?? 30);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map(n => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per node from the samples (timeDeltas[i] is the time before sample i).
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
  }
  let idle = 0;
  let total = 0;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    total += us;
    const name = n.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') {
      idle += name === '(idle)' ? us : 0;
    }
    const l = label(n);
    self.set(l, (self.get(l) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cl = label(byId.get(cur)!);
      if (seen.has(cl)) continue; // recursion: count once
      seen.add(cl);
      inclusive.set(cl, (inclusive.get(cl) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const print = (title: string, m: Map<string, number>) => {
    process.stdout.write(`\n${title} (share of ${(busy / 1e6).toFixed(2)} s busy; ${(idle / 1e6).toFixed(2)} s idle)\n`);
    const rows = [...m.entries()].filter(([l]) => !l.startsWith('(idle)') && !l.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [l, us] of rows) process.stdout.write(`  ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${l}\n`);
  };
  print('self time', self);
  print('inclusive time', inclusive);
}

main();
