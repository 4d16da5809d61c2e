// JSON Schema validation with ajv: one instance, each schema compiled once, errors
// phrased so a model (or a person) can fix the arguments.
import { createRequire } from 'node:module';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);
const draft07MetaSchema = require('ajv/dist/refs/json-schema-draft-07.json') as object;
// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
/** Adds the standard string formats (date-time, email, uri…) to an ajv instance. */
export const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

export type Validator = ValidateFunction;

export interface SchemaCompiler {
  /** Compiles a schema, or throws an Error saying why it is not a valid schema. */
  compile(schema: object): Validator;
}

export function createSchemaCompiler(): SchemaCompiler {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    // Keyword values are still type-checked when compiling; skipping meta-schema validation saves ~50 ms at start-up.
    validateSchema: false,
    // Plugins may reuse $id values across tools; never let one tool's schema shadow another's.
    addUsedSchema: false,
  });
  ajv.addMetaSchema(draft07MetaSchema);
  addFormats(ajv);
  const cache = new WeakMap<object, Validator>();
  return {
    compile(schema) {
      const cached = cache.get(schema);
      if (cached) return cached;
      const validate = ajv.compile(schema);
      cache.set(schema, validate);
      return validate;
    },
  };
}

/** One line per problem: `/days: must be <= 7`. */
export function formatSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'does not match the schema';
  const lines = errors.map((error) => {
    const where = error.instancePath === '' ? '(arguments)' : error.instancePath;
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      message = `unexpected property "${String(error.params.additionalProperty)}"`;
    } else if (error.keyword === 'enum') {
      message = `must be one of ${JSON.stringify(error.params.allowedValues)}`;
    }
    return `${where}: ${message}`;
  });
  return [...new Set(lines)].join('; ');
}
