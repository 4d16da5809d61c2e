// The shared adapter contract, run against a ScaiWave-shaped fixture in a real python3.
import { fileURLToPath } from 'node:url';
import { describeAdapterContract } from '../../contract/adapter-contract.js';
import { livePythonHosts, sandboxForTests } from './python-hosts.js';

describeAdapterContract({
  kind: 'python',
  pluginId: 'contract',
  plugin: (scratch) => ({
    path: fileURLToPath(new URL('../../fixtures/python/contract.py', import.meta.url)),
    // The hang tool writes its marker into the suite's scratch folder.
    ...sandboxForTests,
    grants: { files: { [scratch]: 'rw' } },
  }),
  livePids: () => livePythonHosts(),
});
