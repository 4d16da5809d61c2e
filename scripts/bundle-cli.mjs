// Build step after tsc: bundles the command line (dist/cli/main.js and what it imports,
// with most dependencies) into dist/bundle/, so a start loads a few dozen files instead of
// hundreds: Node's ES module loader costs ~0.3 ms per module, and a cold start loaded ~270
// modules before the first plugin. Dynamic imports stay separate chunks, so what loads lazily
// still does. Each `import.meta.url` is replaced by its source file's own URL, so paths that
// files compute from where they are (the Python host, the wasm workers, templates) still
// point at dist/. Packages that find files of their own at run time stay external.
import { readFile, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outdir = `${dist}bundle`;

/**
 * Loaded from node_modules as usual: worker threads, wasm files, optional parts found by path.
 * pino is bundled (its ~30 CommonJS files took ~25 ms to require at every start): only its
 * transports find files by `__dirname` (a worker thread), and toolport's logger writes to a
 * stream of its own, never through a transport.
 */
const external = [
  '@bytecodealliance/*',
  '@opentelemetry/*',
  'pino-pretty',
  'ioredis',
  'mqtt',
  'prom-client',
  'tsx',
  'tsx/*',
  'jose',
  'typescript',
];

// Every bundled file (ours and the packages') that asks for its own URL gets the URL of the
// file it came from, not the bundle's.
const ownUrls = {
  name: 'own-file-urls',
  setup(builder) {
    builder.onLoad({ filter: /\.[cm]?js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const fromBundle = relative(outdir, args.path).split('\\').join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

// yaml's Node entry is CommonJS, and a dynamic import of CommonJS in a split bundle only has a
// default export; its ES module build is the same code.
const yamlAsModule = {
  name: 'yaml-as-module',
  setup(builder) {
    builder.onResolve({ filter: /^yaml$/ }, () => ({ path: fileURLToPath(new URL('../node_modules/yaml/browser/index.js', import.meta.url)) }));
  },
};

// zod's namespace object carries every locale (~0.37 MB of message tables); only English is
// used (zod's default), so the others are left out.
const englishOnly = {
  name: 'zod-english-only',
  setup(builder) {
    builder.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes('/zod/') ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(fileURLToPath(new URL('../node_modules/zod/v4/locales/en.js', import.meta.url)))};`,
      loader: 'js',
      resolveDir: dist,
    }));
  },
};

// Chunk names change with their content: last build's chunks must not linger.
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: `${dist}cli/main.js` },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [ownUrls, yamlAsModule, englishOnly],
  // CommonJS packages inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __toolportRequire } from 'node:module'; const require = __toolportRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
