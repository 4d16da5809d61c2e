// The shared adapter contract, run against the command fixture skill (test/fixtures/command/contract).
import { fileURLToPath } from 'node:url';
import { describeAdapterContract } from '../../contract/adapter-contract.js';
import { pidsWithCwd, sandboxForTests } from './helpers.js';

const skill = fileURLToPath(new URL('../../fixtures/command/contract', import.meta.url));

describeAdapterContract({
  kind: 'command',
  pluginId: 'contract',
  plugin: (scratch) => ({ path: skill, ...sandboxForTests, grants: { files: { [scratch]: 'rw' } } }),
  // Every process a skill starts runs in the skill folder (bwrap and its init too).
  livePids: () => pidsWithCwd(skill),
});
