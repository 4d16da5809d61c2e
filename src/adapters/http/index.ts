// The `http` kind: a Carter plugin (a JSON manifest plus the HTTP API it describes), each
// endpoint served as a tool and called with undici the way Carter calls it.
import { defineAdapter } from '../../core/plugin.js';
import { loadHttpPlugin } from './http-plugin.js';
import { httpSpecSchema, type HttpSpec } from './spec.js';

export const httpAdapter = defineAdapter<HttpSpec>({ kind: 'http', spec: httpSpecSchema, load: loadHttpPlugin });

export type { HttpSpec } from './spec.js';
