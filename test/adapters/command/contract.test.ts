// The shared adapter contract, run against the command fixture skill (test/fixtures/command/contract).
import { fileURLToPath } from 'node:url';
import { describeAdapterContract } from '../../contract/adapter-contract.js';
import { grantsForTests, pidsWithCwd } from './helpers.js';

const skill = fileURLToPath(new URL('../../fixtures/command/contract', import.meta.url));

describeAdapterContract({
  kind: 'command',
  pluginId: 'contract',
  plugin: () => ({ path: skill, grants: grantsForTests }),
  // Every process a skill starts runs in the skill folder.
  livePids: () => pidsWithCwd(skill),
});
