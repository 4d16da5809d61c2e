import { describeAdapterContract } from '../../contract/adapter-contract.js';
import { buildWatFixture } from '../../fixtures/wasm/build.js';

let fixture: { wasm: string; wit: string } | undefined;

describeAdapterContract({
  kind: 'wasm',
  // The package line of contract.wit (toolport:contract@1.0.0) names the plugin.
  pluginId: 'contract',
  setup: async () => {
    fixture = await buildWatFixture('contract');
  },
  plugin: () => {
    if (!fixture) throw new Error('fixture not built');
    return { path: fixture.wasm, wit: fixture.wit };
  },
  // WIT: `hang: func()`, no marker argument.
  hangArgs: () => ({}),
  abortNotObservable:
    'a Wasm guest spinning in a loop runs no code after its worker thread is terminated, and the sandbox has no files; ' +
    'termination is checked in lifecycle.test.ts (the thread stops burning CPU and a fresh instance answers)',
});
