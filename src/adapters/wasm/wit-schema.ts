// WIT types as JSON Schema (2020-12), exact enough that the pipeline's argument check
// refuses anything jco would silently wrap, truncate or misread: integer ranges, 64-bit
// values as decimal strings beyond 2^53, one-character chars, closed records.
import type { JsonSchemaObject } from '../../core/tool.js';
import { formatWitFunction, type WitFunction, type WitType } from './wit-types.js';

type Schema = Record<string, unknown>;

const integerRanges: Record<string, [number, number]> = {
  s8: [-128, 127],
  s16: [-32_768, 32_767],
  s32: [-2_147_483_648, 2_147_483_647],
  u8: [0, 255],
  u16: [0, 65_535],
  u32: [0, 4_294_967_295],
};

const maxF32 = 3.4028234663852886e38;
export const nonFiniteNames = ['NaN', 'Infinity', '-Infinity'] as const;

/** A regex alternative matching decimal strings (no leading zeros) from 0 to `max`. */
function decimalAtMost(max: bigint): string {
  const digits = max.toString();
  const alternatives = ['0'];
  for (let length = 1; length < digits.length; length++) {
    alternatives.push(length === 1 ? '[1-9]' : `[1-9]\\d{${length - 1}}`);
  }
  for (let index = 0; index < digits.length; index++) {
    const low = index === 0 ? 1 : 0;
    const high = Number(digits[index]) - 1;
    if (high < low) continue;
    const rest = digits.length - index - 1;
    const range = low === high ? String(low) : `[${low}-${high}]`;
    alternatives.push(`${digits.slice(0, index)}${range}${rest > 0 ? `\\d{${rest}}` : ''}`);
  }
  if (digits !== '0') alternatives.push(digits);
  return `(?:${[...new Set(alternatives)].join('|')})`;
}

const u64Max = 2n ** 64n - 1n;
const s64Max = 2n ** 63n - 1n;
const u64Pattern = `^${decimalAtMost(u64Max)}$`;
const s64Pattern = `^(?:-${decimalAtMost(s64Max + 1n)}|${decimalAtMost(s64Max)})$`;

export interface SchemaFlavor {
  /** Output schemas also allow "NaN"/"Infinity"/"-Infinity" for floats, which JSON cannot carry as numbers. */
  output: boolean;
}

function withMeta(schema: Schema, type: WitType): Schema {
  if (type.docs) schema.description = type.docs;
  if (type.name && ['record', 'variant', 'enum', 'flags'].includes(type.kind)) schema.title = type.name;
  return schema;
}

function objectOf(properties: Schema, required: string[]): Schema {
  return { type: 'object', properties, required, additionalProperties: false };
}

/** True when a type's JSON form is nullable already (an option), so an outer option needs tags. */
export function isOption(type: WitType): boolean {
  return type.kind === 'option';
}

export function toJsonSchema(type: WitType, flavor: SchemaFlavor): Schema {
  switch (type.kind) {
    case 'bool':
      return withMeta({ type: 'boolean' }, type);
    case 's8':
    case 's16':
    case 's32':
    case 'u8':
    case 'u16':
    case 'u32': {
      const [minimum, maximum] = integerRanges[type.kind] as [number, number];
      return withMeta({ type: 'integer', minimum, maximum }, type);
    }
    case 's64':
    case 'u64': {
      const signed = type.kind === 's64';
      return withMeta(
        {
          anyOf: [
            { type: 'integer', minimum: signed ? -Number.MAX_SAFE_INTEGER : 0, maximum: Number.MAX_SAFE_INTEGER },
            { type: 'string', pattern: signed ? s64Pattern : u64Pattern },
          ],
          ...(!type.docs && {
            description: `${type.kind}: an integer; values beyond ±2^53 (${Number.MAX_SAFE_INTEGER}) as a decimal string`,
          }),
        },
        type,
      );
    }
    case 'f32':
    case 'f64': {
      const number: Schema = type.kind === 'f32' && !flavor.output ? { type: 'number', minimum: -maxF32, maximum: maxF32 } : { type: 'number' };
      return withMeta(flavor.output ? { anyOf: [number, { type: 'string', enum: [...nonFiniteNames] }] } : number, type);
    }
    case 'char':
      return withMeta({ type: 'string', minLength: 1, maxLength: 1 }, type);
    case 'string':
      return withMeta({ type: 'string' }, type);
    case 'list': {
      const schema: Schema = { type: 'array', items: toJsonSchema(type.element, flavor) };
      if (type.length !== undefined) {
        schema.minItems = type.length;
        schema.maxItems = type.length;
      }
      return withMeta(schema, type);
    }
    case 'tuple':
      return withMeta(
        {
          type: 'array',
          prefixItems: type.items.map((item) => toJsonSchema(item, flavor)),
          items: false,
          minItems: type.items.length,
          maxItems: type.items.length,
        },
        type,
      );
    case 'record': {
      const properties: Schema = {};
      const required: string[] = [];
      for (const field of type.fields) {
        const schema = toJsonSchema(field.type, flavor);
        if (field.docs) schema.description = field.docs;
        properties[field.name] = schema;
        if (field.type.kind !== 'option') required.push(field.name);
      }
      return withMeta(objectOf(properties, required), type);
    }
    case 'variant':
      return withMeta(
        {
          oneOf: type.cases.map((item) => {
            const tag: Schema = { const: item.name };
            const schema = item.type
              ? objectOf({ tag, val: toJsonSchema(item.type, flavor) }, ['tag', 'val'])
              : objectOf({ tag }, ['tag']);
            if (item.docs) schema.description = item.docs;
            return schema;
          }),
        },
        type,
      );
    case 'enum':
      return withMeta({ type: 'string', enum: type.cases.map((item) => item.name) }, type);
    case 'flags':
      return withMeta({ type: 'array', items: { type: 'string', enum: type.flags.map((item) => item.name) }, uniqueItems: true }, type);
    case 'option': {
      if (isOption(type.inner)) {
        // option<option<T>>: null alone could not tell none from some(none).
        return withMeta(
          {
            oneOf: [
              objectOf({ tag: { const: 'none' } }, ['tag']),
              objectOf({ tag: { const: 'some' }, val: toJsonSchema(type.inner, flavor) }, ['tag', 'val']),
            ],
          },
          type,
        );
      }
      return withMeta({ anyOf: [toJsonSchema(type.inner, flavor), { type: 'null' }] }, type);
    }
    case 'result':
      return withMeta(
        {
          oneOf: [
            objectOf({ ok: type.ok ? toJsonSchema(type.ok, flavor) : { type: 'null' } }, ['ok']),
            objectOf({ err: type.err ? toJsonSchema(type.err, flavor) : { type: 'null' } }, ['err']),
          ],
        },
        type,
      );
    case 'unsupported':
      // Never reached for exposed tools: functions using these are skipped at load.
      return { description: type.what };
  }
}

export function toInputSchema(func: WitFunction): JsonSchemaObject {
  const properties: Schema = {};
  const required: string[] = [];
  for (const param of func.params) {
    properties[param.name] = toJsonSchema(param.type, { output: false });
    if (param.type.kind !== 'option') required.push(param.name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/** The type a successful call returns: a top-level result's ok type, else the return type. */
export function successType(func: WitFunction): WitType | undefined {
  if (func.result?.kind === 'result') return func.result.ok;
  return func.result;
}

/** `{ result: <value> }`, the structured form of a return value (MCP wants an object). */
export function toOutputSchema(func: WitFunction): JsonSchemaObject | undefined {
  const type = successType(func);
  if (!type) return undefined;
  return {
    type: 'object',
    properties: { result: toJsonSchema(type, { output: true }) },
    required: ['result'],
    additionalProperties: false,
  };
}

/** The WIT doc comment, or a description generated from the signature (and the interface's docs). */
export function describeFunction(func: WitFunction, where: string, interfaceDocs?: string): string {
  if (func.docs) return func.docs;
  const failing = func.result?.kind === 'result' ? ' A returned error makes the call fail with the error value.' : '';
  return `Calls \`${formatWitFunction(func)}\` in ${where}.${failing}${interfaceDocs ? ` ${interfaceDocs}` : ''}`;
}
