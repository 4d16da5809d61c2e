// The parts of undici the http kind uses, loaded file by file: undici's index also loads
// fetch, web sockets, caches, proxies and mocks (the bundle's http chunk 1.12 → 0.53 MB, its
// import 145 → 98 ms, while the Python host waits for the main thread). These paths are
// undici's own files, not an exported API: package.json pins undici's exact version for them.
import requestOf from 'undici/lib/api/api-request.js';
import type { Dispatcher } from 'undici';

export { default as Agent } from 'undici/lib/dispatcher/agent.js';
export { default as Pool } from 'undici/lib/dispatcher/pool.js';
export { default as redirect } from 'undici/lib/interceptor/redirect.js';

/** `dispatcher.request(options)`: the index adds it to every dispatcher; here it is called on one. */
export function request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return requestOf.call(dispatcher, options);
}
