import { fileURLToPath } from 'node:url';
import { describeAdapterContract } from '../../contract/adapter-contract.js';
import { pidsWithCwd } from './helpers.js';

const skill = fileURLToPath(new URL('../../fixtures/command/contract', import.meta.url));

describeAdapterContract({
  kind: 'command',
  pluginId: 'contract',
  plugin: () => ({ path: skill }),
  // Every process a skill starts runs in the skill folder.
  livePids: () => pidsWithCwd(skill),
});
