// npm run bench [-- SECTION...]: rebuilds (npm script), runs the sections, keeps each section's raw
// samples and rendering in bench/samples/<section>.json, and renders bench/results.md from all of
// them, so a one-section run replaces only that section.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { runEnv, RunEnv } from './env';
import { log, Section } from './lib';
import { renderResults, SectionRecord } from './results';

/** Sections in report order (loaded when run), with a rough duration on this kind of machine for the estimate. */
const SECTIONS: Array<{ name: string; run: () => Promise<Section>; estimateS: number }> = [
  { name: 'synth', run: () => import('./synth').then((m) => m.synthBench()), estimateS: 150 },
  { name: 'boot', run: () => import('./boot').then((m) => m.bootBench()), estimateS: 120 },
  { name: 'cluster', run: () => import('./cluster-section').then((m) => m.clusterBench()), estimateS: 300 },
  { name: 'live', run: () => import('./live-section').then((m) => m.liveBench()), estimateS: 120 },
  { name: 'footprint', run: () => import('./footprint').then((m) => m.footprintBench()), estimateS: 500 },
  { name: 'datapath', run: () => import('./datapath').then((m) => m.datapathBench()), estimateS: 300 },
  { name: 'epmd', run: () => import('./epmd').then((m) => m.epmdBench()), estimateS: 150 },
  { name: 'replicas', run: () => import('./replicas-section').then((m) => m.replicasBench()), estimateS: 330 },
  { name: 'peers', run: () => import('./peers').then((m) => m.peersBench()), estimateS: 240 },
];
const SAMPLES = path.join(__dirname, 'samples');

function parseArgs(argv: string[]): string[] {
  const names = SECTIONS.map((s) => s.name);
  const program = new Command('bench')
    .argument('[sections...]', `sections to run (${names.join(', ')}); all when none`)
    .exitOverride();
  program.parse(argv, { from: 'user' });
  const wanted = program.args.length ? program.args : names;
  for (const w of wanted) if (!names.includes(w)) throw new Error(`unknown section '${w}' (${names.join(', ')})`);
  return names.filter((n) => wanted.includes(n));
}

function save(name: string, env: RunEnv, section: Section): void {
  fs.mkdirSync(SAMPLES, { recursive: true });
  const record: SectionRecord = { name, env, ...section };
  fs.writeFileSync(path.join(SAMPLES, `${name}.json`), JSON.stringify(record, null, 1) + '\n');
}

function loadAll(): SectionRecord[] {
  return SECTIONS.map((s) => path.join(SAMPLES, `${s.name}.json`))
    .filter((f) => fs.existsSync(f))
    .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as SectionRecord);
}

async function main(): Promise<void> {
  const wanted = parseArgs(process.argv.slice(2));
  const env = runEnv();
  const t0 = Date.now();
  for (const [i, name] of wanted.entries()) {
    const later = SECTIONS.filter((s) => wanted.slice(i).includes(s.name)).reduce((a, s) => a + s.estimateS, 0);
    log(`section ${i + 1}/${wanted.length}: ${name} (estimated ~${Math.ceil(later / 60)} min left in this run)`);
    const started = Date.now();
    const section = await SECTIONS.find((s) => s.name === name)!.run();
    // A quick run checks the bench code; its 2-round figures must not replace a real run's.
    if (!process.env.MESHX_BENCH_QUICK) save(name, env, section);
    log(`${name} done in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const md = process.env.MESHX_BENCH_QUICK ? '(MESHX_BENCH_QUICK: nothing saved)' : renderResults(loadAll());
  if (!process.env.MESHX_BENCH_QUICK) fs.writeFileSync(path.join(__dirname, 'results.md'), md);
  process.stdout.write(md + '\n');
  const written = process.env.MESHX_BENCH_QUICK ? 'nothing written (MESHX_BENCH_QUICK)' : 'bench/results.md and bench/samples/ written';
  log(`all done in ${Math.round((Date.now() - t0) / 1000)} s; ${written}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
