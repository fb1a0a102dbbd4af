// One EPMD load generator process: node bench/epmd-load.js HOST PORT NAME TOTAL CONCURRENCY
// Sends TOTAL PORT_PLEASE2 lookups for NAME, each on a new connection (as a BEAM does), with
// CONCURRENCY in flight; prints {total, secs, lat} (latencies in ms) as JSON. Fails on a bad answer.
'use strict';
const net = require('node:net');
const { decodePort2Response, encodePortPlease2Request } = require('../lib/runtime/epmd/codec');

const [host, port, name, total, concurrency] = process.argv.slice(2);

function lookupOnce() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const s = net.connect({ host, port: Number(port) }, () => s.write(encodePortPlease2Request(name)));
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      const r = decodePort2Response(Buffer.concat(chunks));
      if (!(r.info && r.info.port > 0)) reject(new Error(`bad answer for ${name}: ${JSON.stringify(r)}`));
      else resolve();
    });
  });
}

async function main() {
  const n = Number(total);
  const lat = new Array(n);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Number(concurrency) }, async () => {
    while (next < n) {
      const i = next++;
      const s = process.hrtime.bigint();
      await lookupOnce();
      lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ total: n, secs, lat: lat.map((x) => Math.round(x * 1000) / 1000) }));
}

main().catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
