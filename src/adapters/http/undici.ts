// The parts of undici the http kind uses, loaded file by file: undici's index also loads
// fetch, web sockets, caches, proxies and mocks, which doubled what a start spends loading it
// (the examples' start: ~110 → ~50 ms of the main thread, while the Python host waits for it).
import AgentClass from 'undici/lib/dispatcher/agent.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import redirectInterceptor from 'undici/lib/interceptor/redirect.js';
import requestOf from 'undici/lib/api/api-request.js';
import type { Dispatcher } from 'undici';

export const Agent = AgentClass;
export const Pool = PoolClass;
export const redirect = redirectInterceptor;

/** `dispatcher.request(options)`: the index adds it to every dispatcher; here it is called on one. */
export function request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return requestOf.call(dispatcher, options);
}
