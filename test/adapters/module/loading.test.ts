// Loading module plugins from files as people write them: TypeScript with or without a
// package.json that says "type": "module", and files that do not compile (named with
// file, line and column).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { createToolport } from '../../../src/toolport.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const plugin = `
interface Args { name: string }
export default {
  manifest: { id: 'typed', tools: [{ name: 'greet', parameters: { type: 'object', properties: { name: { type: 'string' } } }, annotations: { readOnlyHint: true } }] },
  executeTool(_tool: string, args: Args): string {
    return \`Hello, \${args.name}!\`;
  },
};
`;

const dir = useTempDir('toolport-module-', 'all');

async function greet(path: string): Promise<unknown> {
  const toolport = await createToolport(parseConfig({ plugins: [{ path }] }));
  try {
    expect(toolport.diagnostics).toEqual([]);
    return (await toolport.call('typed__greet', { name: 'Ada' })).content;
  } finally {
    await toolport.close();
  }
}

describe('module plugins from files', () => {
  it('a .ts file loads whether or not a package.json near it says "type": "module"', async () => {
    for (const type of [undefined, 'commonjs', 'module']) {
      const folder = join(dir.path, `package-${type ?? 'none'}`);
      await mkdir(folder, { recursive: true });
      if (type) await writeFile(join(folder, 'package.json'), JSON.stringify({ name: 'p', type }));
      await writeFile(join(folder, 'typed.ts'), plugin);
      expect(await greet(join(folder, 'typed.ts'))).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
    }
  });

  // A .js/.mjs file that does not compile is covered through the built CLI (test/cli): under
  // vitest, import() goes through vite's module graph, which words the error its own way.
  it('a .ts file that does not compile is named with its line and column', async () => {
    const ts = join(dir.path, 'broken.ts');
    await writeFile(ts, 'export default {\n  manifest: { tools: [ }\n};\n');
    const toolport = await createToolport(parseConfig({ plugins: [{ path: ts }] }));
    try {
      expect(toolport.diagnostics.map((diagnostic) => diagnostic.message)).toEqual([`plugins[0] ${ts}:2:23: Unexpected "}"`]);
    } finally {
      await toolport.close();
    }
  });
});

describe("a module tool's ctx", () => {
  it('has its fields as its own but signal, read through a getter; it works through a Proxy and Object.create, and elicit and sample can be taken off it', async () => {
    const path = join(dir.path, 'ctx.mjs');
    await writeFile(
      path,
      `export default {
  manifest: { id: 'ctx', tools: [{ name: 'look', parameters: { type: 'object', properties: {} }, annotations: { readOnlyHint: true } }] },
  executeTool(_tool, _args, ctx) {
    const { signal, elicit, sample } = ctx;
    const traced = new Proxy(ctx, {});
    return {
      own: Object.keys({ ...ctx }).sort(),
      signal: signal instanceof AbortSignal && !signal.aborted,
      throughProxy: traced.signal === signal && traced.elicit === elicit,
      throughPrototype: Object.create(ctx).signal === signal,
      stable: ctx.elicit === ctx.elicit && ctx.sample === ctx.sample,
      functions: typeof elicit + ' ' + typeof sample,
    };
  },
};
`,
    );
    const toolport = await createToolport(parseConfig({ plugins: [{ path }] }));
    try {
      const result = await toolport.call('ctx__look', {});
      expect(result.structuredContent).toEqual({
        own: ['callId', 'elicit', 'log', 'logger', 'principal', 'progress', 'sample', 'sessionId', 'settings'],
        signal: true,
        throughProxy: true,
        throughPrototype: true,
        stable: true,
        functions: 'function function',
      });
    } finally {
      await toolport.close();
    }
  });
});
