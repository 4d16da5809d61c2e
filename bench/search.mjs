// Tool search benchmark over the generated catalog of the search tests (1,000 tools in 20
// module plugins): tools/list size in list mode vs search mode, search_tools latency
// (p50/p90 of 100 paraphrased queries, filtered for a principal), index build time, and
// the server-side time of a full tools/list in list mode (with a bare map of the registry
// as the baseline measured in the same run). Not part of CI: `npm run build && node bench/search.mjs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToolport, parseConfig } from '../dist/index.js';
import { buildCatalogIndex, searchToolDefinition } from '../dist/server/tool-search.js';
import { domains, queries } from '../test/fixtures/search/catalog-data.mjs';

const plugin = fileURLToPath(new URL('../test/fixtures/search/catalog-plugin.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 20);

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (value) => `${value.toFixed(3)} ms`;

const stateDir = mkdtempSync(join(tmpdir(), 'toolport-bench-search-'));
const config = parseConfig({
  plugins: Object.keys(domains).map((domain) => ({ path: plugin, id: domain, settings: { domain } })),
  policy: { unknownSideEffects: 'allow', rules: [{ principal: 'intern', plugin: 'finance', action: 'deny' }] },
});
const toolport = await createToolport(config, { stateDir });
try {
  const tools = toolport.registry.tools;
  console.log(`catalog: ${tools.length} tools in ${new Set(tools.map((tool) => tool.plugin.id)).size} plugins; node ${process.version}`);

  // Index build, fresh each round.
  const builds = [];
  let index;
  for (let round = 0; round < rounds; round += 1) {
    const started = performance.now();
    index = buildCatalogIndex(tools);
    builds.push(performance.now() - started);
  }
  console.log(`index build: p50 ${ms(percentile(builds, 50))}, max ${ms(Math.max(...builds))} (goal ≤ 200 ms)`);

  // search_tools: 100 queries, as the intern (the policy hides one plugin from them).
  const visible = (tool) => toolport.isListed(tool, 'intern');
  for (const [query] of queries) index.search(query, 5, visible);
  const searches = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const [query] of queries) {
      const started = performance.now();
      index.search(query, 5, visible);
      searches.push(performance.now() - started);
    }
  }
  console.log(`search_tools (limit 5, ${searches.length} searches): p50 ${ms(percentile(searches, 50))}, p90 ${ms(percentile(searches, 90))}, p99 ${ms(percentile(searches, 99))} (goal p50 ≤ 2 ms)`);

  // tools/list in list mode: what the handler does for one principal (policy + pins filter, the MCP tools), and its JSON.
  const listOnce = () => toolport.listTools('ops').map((tool) => tool.mcpTool);
  const bare = () => tools.map((tool) => tool.mcpTool);
  for (let warm = 0; warm < 50; warm += 1) JSON.stringify(listOnce());
  const timing = (work) => {
    const samples = [];
    for (let round = 0; round < rounds * 10; round += 1) {
      const started = performance.now();
      work();
      samples.push(performance.now() - started);
    }
    return percentile(samples, 50);
  };
  const listMs = timing(listOnce);
  const listJsonMs = timing(() => JSON.stringify(listOnce()));
  const bareMs = timing(bare);
  const bareJsonMs = timing(() => JSON.stringify(bare()));
  console.log(`tools/list, list mode, 1,000 tools: p50 ${ms(listMs)} (${ms(listJsonMs)} with JSON); a bare map of the registry: ${ms(bareMs)} (${ms(bareJsonMs)} with JSON); goal ≤ 5 ms`);

  // Sizes: every page of list mode vs search mode (search_tools + 2 always-visible tools).
  const listBytes = Buffer.byteLength(JSON.stringify({ tools: listOnce() }));
  const listed = tools.filter((tool) => tool.name === 'weather__get_forecast' || tool.name === 'maps__get_route');
  const searchTools = [searchToolDefinition(index.describe(toolport.listTools('ops'), listed.length)), ...listed.map((tool) => tool.mcpTool)];
  const searchBytes = Buffer.byteLength(JSON.stringify({ tools: searchTools }));
  console.log(`tools/list size: list mode ${listBytes} bytes, search mode ${searchBytes} bytes = ${((100 * searchBytes) / listBytes).toFixed(2)} % (goal ≤ 5 %)`);
} finally {
  await toolport.close();
  rmSync(stateDir, { recursive: true, force: true });
}
