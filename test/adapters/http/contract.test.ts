// The shared adapter contract for the http kind, against the fixture API in its own
// process, with the manifest loaded from its URL and the secret token checked.
import { describeAdapterContract } from '../../contract/adapter-contract.js';
import { startCarterApi, type CarterApi } from './carter-api.js';

const secret = 'contract-secret-5b1e9c';
let api: CarterApi | undefined;

describeAdapterContract({
  kind: 'http',
  pluginId: 'contract',
  plugin: () => {
    if (!api) throw new Error('the fixture API is not running');
    return { path: api.manifestUrl('contract'), secretToken: secret };
  },
  setup: async () => {
    api = await startCarterApi({ secret });
  },
  teardown: async () => {
    await api?.stop();
  },
});
