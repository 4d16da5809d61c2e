// The example config in config/ stays valid as the schema changes.
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';

it('config/toolport.example.yaml loads', async () => {
  const { config } = await loadConfigFile(fileURLToPath(new URL('../../config/toolport.example.yaml', import.meta.url)), {});
  expect(config.plugins).toHaveLength(1);
  expect(config.policy.rules[0]).toMatchObject({ tool: 'notebook__text_stats', action: 'allow' });
});
