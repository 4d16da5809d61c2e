// JSON values (as the tool schemas describe them) to jco's JavaScript representation of
// WIT values and back: camelCase record fields and flags, BigInt for 64-bit integers,
// typed arrays for numeric lists, `{ tag, val }` for variants and nested options.
import { isOption, nonFiniteNames } from './wit-schema.js';
import type { WitType } from './wit-types.js';

/** WIT identifiers met so far, and their jco names (a component has a fixed set; calls reuse them). */
const camelCases = new Map<string, string>();

/** jco's name for a WIT identifier: lower camel case (`x-coord` → `xCoord`, `get-URL` → `getUrl`). */
export function toCamelCase(name: string): string {
  let camel = camelCases.get(name);
  if (camel === undefined) {
    camel = camelCaseOf(name);
    camelCases.set(name, camel);
  }
  return camel;
}

function camelCaseOf(name: string): string {
  return name
    .split('-')
    .filter((word) => word.length > 0)
    .map((word, index) => {
      const lower = word.toLowerCase();
      return index === 0 ? lower : lower.charAt(0).toUpperCase() + lower.slice(1);
    })
    .join('');
}

/**
 * Answers a host call with the `err` case of its WIT `result`: jco turns a thrown
 * non-Error into that case (an Error would trap the guest instead).
 */
export function throwGuestError(value: unknown): never {
  throw value;
}

export class ValueError extends Error {
  override readonly name = 'ValueError';
}

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

const typedArrays: Partial<Record<WitType['kind'], TypedArrayConstructor>> = {
  s8: Int8Array,
  u8: Uint8Array,
  s16: Int16Array,
  u16: Uint16Array,
  s32: Int32Array,
  u32: Uint32Array,
  f32: Float32Array,
  f64: Float64Array,
};

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new ValueError('expected an array');
  return value;
}

/** JSON (already checked against the input schema) to what jco lowers. */
export function toGuestValue(type: WitType, value: unknown): unknown {
  switch (type.kind) {
    case 's64':
    case 'u64':
      if (typeof value !== 'number' && typeof value !== 'string') throw new ValueError(`expected a ${type.kind}`);
      return BigInt(value);
    case 'list': {
      const items = expectArray(value);
      const element = type.element.kind;
      const typed = typedArrays[element];
      if (typed) return typed.from(items as number[]);
      if (element === 's64') return BigInt64Array.from(items as (number | string)[], (item) => BigInt(item));
      if (element === 'u64') return BigUint64Array.from(items as (number | string)[], (item) => BigInt(item));
      return items.map((item) => toGuestValue(type.element, item));
    }
    case 'tuple': {
      const items = expectArray(value);
      return type.items.map((item, index) => toGuestValue(item, items[index]));
    }
    case 'record': {
      if (!isRecordObject(value)) throw new ValueError('expected an object');
      const out: Record<string, unknown> = {};
      for (const field of type.fields) out[toCamelCase(field.name)] = toGuestValue(field.type, value[field.name]);
      return out;
    }
    case 'variant': {
      if (!isRecordObject(value)) throw new ValueError('expected { tag, val }');
      const item = type.cases.find((candidate) => candidate.name === value.tag);
      if (!item) throw new ValueError(`unknown variant case ${String(value.tag)}`);
      return item.type ? { tag: item.name, val: toGuestValue(item.type, value.val) } : { tag: item.name };
    }
    case 'flags': {
      const set = new Set(expectArray(value));
      return Object.fromEntries(type.flags.map((flag) => [toCamelCase(flag.name), set.has(flag.name)]));
    }
    case 'option': {
      if (isOption(type.inner)) {
        if (!isRecordObject(value) || value.tag === 'none') return { tag: 'none' };
        return { tag: 'some', val: toGuestValue(type.inner, value.val) };
      }
      return value === null || value === undefined ? undefined : toGuestValue(type.inner, value);
    }
    case 'result': {
      if (!isRecordObject(value)) throw new ValueError('expected { ok } or { err }');
      if ('ok' in value) return { tag: 'ok', val: type.ok ? toGuestValue(type.ok, value.ok) : undefined };
      return { tag: 'err', val: type.err ? toGuestValue(type.err, value.err) : undefined };
    }
    case 'unsupported':
      throw new ValueError(`cannot pass ${type.what}`);
    default:
      // bool, s8..u32, f32, f64, char, string, enum: the same in JSON and in jco.
      return value;
  }
}

/** The shortest decimal that reads back as the same f32 (0.1 stays 0.1, not 0.10000000149011612). */
function shortestF32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function fromFloat(value: unknown, single: boolean): number | string {
  if (typeof value !== 'number') throw new ValueError('expected a number from the plugin');
  if (Number.isNaN(value)) return nonFiniteNames[0];
  if (value === Infinity) return nonFiniteNames[1];
  if (value === -Infinity) return nonFiniteNames[2];
  return single ? shortestF32(value) : value;
}

function fromWide(value: unknown): number | string {
  const big = typeof value === 'bigint' ? value : BigInt(value as number);
  const asNumber = Number(big);
  return Number.isSafeInteger(asNumber) && BigInt(asNumber) === big ? asNumber : big.toString();
}

/** What jco lifted to JSON matching the output schema. */
export function fromGuestValue(type: WitType, value: unknown): unknown {
  switch (type.kind) {
    case 's64':
    case 'u64':
      return fromWide(value);
    case 'f32':
    case 'f64':
      return fromFloat(value, type.kind === 'f32');
    case 'list': {
      if (!Array.isArray(value) && !ArrayBuffer.isView(value)) throw new ValueError('expected a list from the plugin');
      return Array.from(value as ArrayLike<unknown>, (item) => fromGuestValue(type.element, item));
    }
    case 'tuple': {
      const items = expectArray(value);
      return type.items.map((item, index) => fromGuestValue(item, items[index]));
    }
    case 'record': {
      if (!isRecordObject(value)) throw new ValueError('expected a record from the plugin');
      const out: Record<string, unknown> = {};
      for (const field of type.fields) out[field.name] = fromGuestValue(field.type, value[toCamelCase(field.name)]);
      return out;
    }
    case 'variant': {
      if (!isRecordObject(value)) throw new ValueError('expected a variant from the plugin');
      const item = type.cases.find((candidate) => candidate.name === value.tag);
      if (!item) throw new ValueError(`unknown variant case ${String(value.tag)} from the plugin`);
      return item.type ? { tag: item.name, val: fromGuestValue(item.type, value.val) } : { tag: item.name };
    }
    case 'flags': {
      if (!isRecordObject(value)) throw new ValueError('expected flags from the plugin');
      return type.flags.filter((flag) => value[toCamelCase(flag.name)] === true).map((flag) => flag.name);
    }
    case 'option': {
      if (isOption(type.inner)) {
        if (!isRecordObject(value) || value.tag !== 'some') return { tag: 'none' };
        return { tag: 'some', val: fromGuestValue(type.inner, value.val) };
      }
      return value === undefined || value === null ? null : fromGuestValue(type.inner, value);
    }
    case 'result': {
      if (!isRecordObject(value)) throw new ValueError('expected a result from the plugin');
      if (value.tag === 'ok') return { ok: type.ok ? fromGuestValue(type.ok, value.val) : null };
      return { err: type.err ? fromGuestValue(type.err, value.val) : null };
    }
    case 'unsupported':
      throw new ValueError(`cannot return ${type.what}`);
    default:
      return value;
  }
}
