import { fileURLToPath } from 'node:url';
import { describeAdapterContract } from '../../contract/adapter-contract.js';

describeAdapterContract({
  kind: 'module',
  pluginId: 'contract',
  plugin: () => ({ path: fileURLToPath(new URL('../../fixtures/module/contract.mjs', import.meta.url)) }),
});
