// The shared adapter contract, run against a ScaiWave-shaped fixture in a real python3.
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeAdapterContract } from '../../contract/adapter-contract.js';
import { livePythonHosts } from './python-hosts.js';

describeAdapterContract({
  kind: 'python',
  pluginId: 'contract',
  plugin: () => ({
    path: fileURLToPath(new URL('../../fixtures/python/contract.py', import.meta.url)),
    // The hang tool writes its marker into the suite's scratch folder under the temp dir.
    grants: { files: { [tmpdir()]: 'rw' } },
  }),
  livePids: () => livePythonHosts(),
});
