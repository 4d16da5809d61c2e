// JSON Schema validation with ajv: one instance, each schema compiled once, errors
// phrased so a model (or a person) can fix the arguments.
//
// Compiling is the slow part of a start (ajv's code generation costs a few milliseconds per
// schema, and loading ajv itself ~50 ms), and a catalogue rarely changes between starts. So a
// compiler given a cache folder keeps each schema's generated code there (ajv's standalone
// code, keyed by a digest of the schema, ajv's version and these options) and the next start
// runs that code without loading ajv at all. A schema ajv refuses is never cached, so it is
// refused again at every load, as without the cache.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileAtomicSync } from './files.js';
import type * as AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type * as Ajv2020Module from 'ajv/dist/2020.js';
import type { Ajv2020 } from 'ajv/dist/2020.js';

// ajv is CommonJS: required when first needed, so a start whose validators are all cached never loads it.
const requireHere = createRequire(import.meta.url);

/** The ajv 2020-12 class (loaded on first use). */
export function ajv2020(): typeof Ajv2020 {
  return (requireHere('ajv/dist/2020.js') as typeof Ajv2020Module).Ajv2020;
}

/** Adds the standard string formats (date-time, email, uri…) to an ajv instance. */
export function addFormats(ajv: Ajv2020): Ajv2020 {
  const formats = requireHere('ajv-formats') as { default?: (ajv: Ajv2020) => Ajv2020 } & ((ajv: Ajv2020) => Ajv2020);
  return (formats.default ?? formats)(ajv);
}

export type Validator = ValidateFunction;

export interface SchemaCompiler {
  /** Compiles a schema, or throws an Error saying why it is not a valid schema. */
  compile(schema: object): Validator;
}

export interface SchemaCompilerOptions {
  /** Where generated validation code is kept across starts (a folder private to the user). */
  readonly cacheDir?: string;
}

/** Changes whenever the options below or the way code is stored change. */
const cacheFormat = 1;

export function createSchemaCompiler(options: SchemaCompilerOptions = {}): SchemaCompiler {
  const folder = options.cacheDir === undefined ? undefined : join(options.cacheDir, 'validators');
  let ajv: Ajv2020 | undefined;
  let version: string | undefined;
  const memo = new WeakMap<object, Validator>();

  function instance(): Ajv2020 {
    if (!ajv) {
      const { _ } = requireHere('ajv') as typeof AjvModule;
      const Ajv = ajv2020();
      ajv = new Ajv({
        strict: false,
        allErrors: true,
        // Keyword values are still type-checked when compiling; skipping meta-schema validation saves ~50 ms at start-up.
        validateSchema: false,
        // Plugins may reuse $id values across tools; never let one tool's schema shadow another's.
        addUsedSchema: false,
        // Keeps the generated code, for the cache; formats are then referred to by module, not inlined.
        code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
      });
      ajv.addMetaSchema(requireHere('ajv/dist/refs/json-schema-draft-07.json') as object);
      addFormats(ajv);
    }
    return ajv;
  }

  function cacheFile(text: string): string | undefined {
    if (folder === undefined) return undefined;
    version ??= (requireHere('ajv/package.json') as { version: string }).version;
    const key = createHash('sha256').update(`${cacheFormat}\0${version}\0${text}`).digest('hex').slice(0, 40);
    return join(folder, `${key}.cjs`);
  }

  function fromCache(file: string): Validator | undefined {
    let code: string;
    try {
      code = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return instantiate(code);
    } catch {
      return undefined; // unreadable code is compiled again and replaced
    }
  }

  function store(file: string, validate: Validator): void {
    try {
      const standaloneCode = requireHere('ajv/dist/standalone') as { default: (ajv: Ajv2020, validate: Validator) => string };
      const code = standaloneCode.default(instance(), validate);
      writeFileAtomicSync(file, code);
    } catch {
      // A cache that cannot be written only costs the next start the compile.
    }
  }

  return {
    compile(schema) {
      const known = memo.get(schema);
      if (known) return known;
      const file = cacheFile(JSON.stringify(schema));
      let validate = file === undefined ? undefined : fromCache(file);
      if (!validate) {
        validate = instance().compile(schema);
        if (file !== undefined) store(file, validate);
      }
      memo.set(schema, validate);
      return validate;
    },
  };
}

/** Runs standalone validation code (CommonJS) with this package's require, which finds ajv's runtime helpers. */
function instantiate(code: string): Validator {
  const module = { exports: {} as { default?: Validator } };
  // The code is ajv's, generated by this module into the user's private cache folder.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const run = new Function('require', 'module', 'exports', code) as (require: NodeJS.Require, module: object, exports: object) => void;
  run(requireHere, module, module.exports);
  const validate = module.exports.default ?? (module.exports as unknown as Validator);
  if (typeof validate !== 'function') throw new Error('not validation code');
  return validate;
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
