// Benchmark of the http kind: toolport's full call pipeline (registry, argument check,
// adapter, Carter checks, output check) to a Carter echo endpoint, against a direct
// keep-alive undici request to the same endpoint, measured in the same run.
//
//   npm run build && node bench/http.mjs [--rounds 6] [--per-round 400] [--warmup 500]
//
// The API runs in its own process (this file with --api). Rounds interleave the targets
// in rotated order; ratios are the median of per-round p50 ratios, as in
// /work/shared/reference/perf-baselines.md. Results also go to bench/results/.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    api: { type: 'boolean' },
    rounds: { type: 'string', default: '6' },
    'per-round': { type: 'string', default: '400' },
    warmup: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '16' },
  },
});
const secret = 'bench-secret-0123456789';

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const median = (list) => percentile([...list].sort((a, b) => a - b), 50);

if (values.api) {
  // The Carter echo API: checks the secret, answers { success, data: { text } }.
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      if (req.headers['x-carter-plugin-secret-token'] !== secret) {
        res.writeHead(403).end();
        return;
      }
      const { data } = JSON.parse(raw);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ success: true, data: { text: data.text } }));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`));
  process.on('SIGTERM', () => process.exit(0));
} else {
  await main();
}

async function main() {
  const { createToolport } = await import('../dist/toolport.js');
  const { parseConfig } = await import('../dist/config/load.js');
  const { httpAdapter } = await import('../dist/adapters/http/index.js');
  const { createSilentLogger } = await import('../dist/core/logger.js');
  const rounds = Number(values.rounds);
  const perRound = Number(values['per-round']);
  const warmup = Number(values.warmup);
  const concurrency = Number(values.concurrency);

  const api = spawn(process.execPath, [fileURLToPath(import.meta.url), '--api'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const origin = await new Promise((resolve, reject) => {
    let out = '';
    api.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /listening (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    api.once('exit', (code) => reject(new Error(`the API exited with ${code}`)));
  });

  try {
    await measure(origin, { rounds, perRound, warmup, concurrency, createToolport, parseConfig, httpAdapter, createSilentLogger });
  } finally {
    api.kill('SIGTERM');
  }
}

async function measure(origin, { rounds, perRound, warmup, concurrency, createToolport, parseConfig, httpAdapter, createSilentLogger }) {
  const scratch = await mkdtemp(join(tmpdir(), 'toolport-bench-http-'));
  const manifestPath = join(scratch, 'bench.json');
  await writeFile(
    manifestPath,
    JSON.stringify({
      manifest_version: '1', developer_id: 'bench', version: '1.0.0', name: 'bench', name_for_human: 'Bench',
      name_for_machine: 'bench', description_for_human: 'Echo.', description_for_machine: 'Echo.',
      author_name: 'bench', contact_email: 'bench@example.com',
      api: {
        base_url: `${origin}/api`,
        endpoints: [{
          name: 'echo', description: 'Echo the text.', path: '/echo',
          input: [{ name: 'text', type: 'string', required: true, description: 'Text.' }],
          output: [{ name: 'text', type: 'string', description: 'The text.', example: 'hi' }],
        }],
      },
    }),
  );
  const toolport = await createToolport(parseConfig({ plugins: [{ path: manifestPath, secretToken: secret, readOnly: ['*'] }] }), { stateDir: join(scratch, 'state') });
  if (toolport.diagnostics.length > 0) throw new Error(JSON.stringify(toolport.diagnostics));

  // The adapter alone, without the pipeline (no registry, argument or output check, call signal).
  const plugin = await httpAdapter.load(httpAdapter.spec.parse({ path: manifestPath, kind: 'http', secretToken: secret }), {
    baseDir: scratch, logger: createSilentLogger(), stateDir: join(scratch, 'state'), toolsChanged: () => {},
  });
  const callOptions = { signal: new AbortController().signal, progress: () => {}, log: () => {}, context: { callId: 'bench', principal: 'local' } };
  const text = 'x'.repeat(64);
  const pool = new Pool(origin, { connections: 16 });
  const relationship = 'f'.repeat(64);
  const targets = {
    // What toolport does at the wire, and nothing else: the floor.
    'direct-undici': async () => {
      const response = await pool.request({
        method: 'POST',
        path: '/api/echo',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-carter-plugin-secret-token': secret },
        body: JSON.stringify({ relationship_token: relationship, data: { text } }),
      });
      const answer = JSON.parse(await response.body.text());
      if (answer.data.text !== text) throw new Error('bad echo');
    },
    'adapter-call': async () => {
      const outcome = await plugin.call('echo', { text }, callOptions);
      if (outcome.structuredContent?.text !== text) throw new Error('bad echo');
    },
    'toolport-call': async () => {
      const outcome = await toolport.call('bench__echo', { text });
      if (outcome.structuredContent?.text !== text) throw new Error('bad echo');
    },
  };
  const names = Object.keys(targets);

  for (const name of names) for (let i = 0; i < warmup; i += 1) await targets[name]();

  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const roundP50 = Object.fromEntries(names.map((name) => [name, []]));
  const throughput = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    const order = names.map((_, index) => names[(index + round) % names.length]);
    for (const name of order) {
      const run = targets[name];
      const times = [];
      for (let i = 0; i < perRound; i += 1) {
        const started = process.hrtime.bigint();
        await run();
        times.push(Number(process.hrtime.bigint() - started) / 1000);
      }
      samples[name].push(...times);
      roundP50[name].push(median(times));
      // Throughput: `concurrency` calls in flight for up to 600 calls or 3 s.
      const until = Date.now() + 3_000;
      let done = 0;
      const startedAt = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (done < 600 && Date.now() < until) {
            done += 1;
            await run();
          }
        }),
      );
      throughput[name].push(done / ((performance.now() - startedAt) / 1000));
    }
  }

  const summary = {};
  for (const name of names) {
    const sorted = [...samples[name]].sort((a, b) => a - b);
    summary[name] = {
      n: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      callsPerSecond: median(throughput[name]),
    };
  }
  const ratios = roundP50['toolport-call'].map((value, index) => value / roundP50['direct-undici'][index]);
  const adapterDeltas = roundP50['adapter-call'].map((value, index) => value - roundP50['direct-undici'][index]);
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    rounds,
    perRound,
    payloadBytes: text.length,
    summary,
    comparison: {
      deltaP50Us: summary['toolport-call'].p50 - summary['direct-undici'].p50,
      ratioP50: median(ratios),
      ratioP50Range: [Math.min(...ratios), Math.max(...ratios)],
      deltaP50PerRoundUs: roundP50['toolport-call'].map((value, index) => value - roundP50['direct-undici'][index]),
      throughputRatio: summary['toolport-call'].callsPerSecond / summary['direct-undici'].callsPerSecond,
      adapterDeltaP50Us: summary['adapter-call'].p50 - summary['direct-undici'].p50,
      adapterDeltaP50PerRoundUs: adapterDeltas,
      goal: 'toolport-call p50 ≤ direct-undici p50 + 150 µs',
    },
  };

  const row = (name) => {
    const s = summary[name];
    return `| ${name} | ${s.p50.toFixed(1)} | ${s.p90.toFixed(1)} | ${s.p99.toFixed(1)} | ${Math.round(s.callsPerSecond)} |`;
  };
  process.stdout.write(
    [
      `http kind, 64 B echo, ${rounds} rounds × ${perRound} sequential calls per target (${process.version}, ${cpus().length} CPUs)`,
      '',
      `| target | p50 µs | p90 µs | p99 µs | calls/s @C=${concurrency} |`,
      '|---|--:|--:|--:|--:|',
      row('direct-undici'),
      row('adapter-call'),
      row('toolport-call'),
      '',
      `toolport over direct: Δp50 ${result.comparison.deltaP50Us.toFixed(1)} µs (per round: ${result.comparison.deltaP50PerRoundUs.map((v) => v.toFixed(0)).join(', ')}), ` +
        `p50 ratio ${result.comparison.ratioP50.toFixed(2)}× (rounds ${result.comparison.ratioP50Range.map((v) => v.toFixed(2)).join('–')}), ` +
        `throughput ${result.comparison.throughputRatio.toFixed(2)}×`,
      `adapter alone over direct: Δp50 ${result.comparison.adapterDeltaP50Us.toFixed(1)} µs (per round: ${adapterDeltas.map((v) => v.toFixed(0)).join(', ')})`,
      `goal: Δp50 ≤ +150 µs → ${result.comparison.deltaP50Us <= 150 ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, `http-${result.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);

  await toolport.close();
  await plugin.close();
  await pool.close();
  await rm(scratch, { recursive: true, force: true });
}
