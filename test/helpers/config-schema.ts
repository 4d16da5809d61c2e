// The config's JSON Schema compiled with ajv, as an editor or another tool would check a
// config file against it.
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { toConfigJsonSchema } from '../../src/config/json-schema.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

export const validateConfigSchema = addFormats(new Ajv({ allErrors: true })).compile(toConfigJsonSchema());
