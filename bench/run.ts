// npm run bench [-- synth boot datapath epmd]: runs the sections, prints the tables, writes bench/results.md.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootBench } from './boot';
import { datapathBench } from './datapath';
import { epmdBench } from './epmd';
import { log, Section } from './lib';
import { synthBench } from './synth';

const SECTIONS: Record<string, () => Promise<Section>> = { synth: synthBench, boot: bootBench, datapath: datapathBench, epmd: epmdBench };

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const otp = execFileSync('erl', ['-noshell', '-eval', 'io:format("~s", [erlang:system_info(otp_release)]), halt().'], { encoding: 'utf8' });
  const consul = execFileSync('consul', ['version'], { encoding: 'utf8' }).split('\n')[0];
  return `${os.cpus().length} vCPU (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; Node ${process.version}, Erlang/OTP ${otp}, ${consul}; shared and noisy: compare ratios, not absolute figures.`;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SECTIONS);
  for (const w of wanted) if (!SECTIONS[w]) throw new Error(`unknown section '${w}' (${Object.keys(SECTIONS).join(', ')})`);
  const results: Section[] = [];
  for (const name of wanted) {
    log(`running ${name}`);
    results.push(await SECTIONS[name]());
  }
  const goals = results.flatMap((r) => r.goals);
  const md = [
    '# Benchmarks',
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}: ${machine()}`,
    '',
    '## Goals',
    '',
    '| goal | measured | met |',
    '|---|---|---|',
    ...goals.map((g) => `| ${g.goal} | ${g.value} | ${g.met ? 'yes' : '**no**'} |`),
    '',
    ...results.flatMap((r) => [`## ${r.title}`, '', r.markdown, '']),
  ].join('\n');
  const file = path.join(__dirname, 'results.md');
  if (wanted.length === Object.keys(SECTIONS).length) fs.writeFileSync(file, md);
  else fs.writeFileSync(path.join(__dirname, `results.${wanted.join('-')}.md`), md);
  process.stdout.write(md + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
