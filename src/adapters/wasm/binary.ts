// Small edits of Wasm binaries, section by section: tell a component from a core module,
// drop core module bodies before printing a component's types (a 12 MB JS engine
// would otherwise print as hundreds of MB of WAT), and cap the linear memory of core
// modules, because worker resource limits do not bound Wasm memory.

const magic = [0x00, 0x61, 0x73, 0x6d];
/** The smallest valid core module: magic and version 1. */
const emptyCoreModule = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
export const wasmPageBytes = 65_536;

export type BinaryKind = 'component' | 'module' | 'unknown';

export function detectBinaryKind(bytes: Uint8Array): BinaryKind {
  if (bytes.length < 8 || magic.some((byte, index) => bytes[index] !== byte)) return 'unknown';
  // Core modules: version 1, layer 0. Components: version 0x0d (pre-1.0), layer 1.
  if (bytes[6] === 0x01 && bytes[7] === 0x00) return 'component';
  if (bytes[6] === 0x00 && bytes[7] === 0x00) return 'module';
  return 'unknown';
}

export class BinaryFormatError extends Error {
  override readonly name = 'BinaryFormatError';
}

interface Reader {
  bytes: Uint8Array;
  offset: number;
}

function readUnsigned(reader: Reader): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = reader.bytes[reader.offset];
    if (byte === undefined) throw new BinaryFormatError('truncated LEB128 number');
    reader.offset++;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 70n) throw new BinaryFormatError('LEB128 number too long');
  }
}

function readU32(reader: Reader): number {
  const value = readUnsigned(reader);
  if (value > 0xffff_ffffn) throw new BinaryFormatError('number out of u32 range');
  return Number(value);
}

function encodeUnsigned(value: bigint | number): number[] {
  let rest = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest !== 0n) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0n);
  return out;
}

interface Section {
  id: number;
  payload: Uint8Array;
}

function readSections(bytes: Uint8Array): Section[] {
  const reader: Reader = { bytes, offset: 8 };
  const sections: Section[] = [];
  while (reader.offset < bytes.length) {
    const id = bytes[reader.offset] as number;
    reader.offset++;
    const size = readU32(reader);
    const end = reader.offset + size;
    if (end > bytes.length) throw new BinaryFormatError(`section ${id} runs past the end of the binary`);
    sections.push({ id, payload: bytes.subarray(reader.offset, end) });
    reader.offset = end;
  }
  return sections;
}

function writeSections(header: Uint8Array, sections: readonly Section[]): Uint8Array {
  const parts: Uint8Array[] = [header];
  for (const section of sections) {
    parts.push(Uint8Array.from([section.id, ...encodeUnsigned(section.payload.length)]), section.payload);
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A copy of a component whose core modules are empty: the same index spaces and types
 * (so printing it shows every component-level type), without the code.
 */
export function stripCoreModules(component: Uint8Array): Uint8Array {
  const sections = readSections(component).map((section): Section => {
    if (section.id === 1) return { id: 1, payload: emptyCoreModule };
    if (section.id === 4) return { id: 4, payload: stripCoreModules(section.payload) };
    return section;
  });
  return writeSections(component.subarray(0, 8), sections);
}

export interface MemoryCapResult {
  bytes: Uint8Array;
  /** The largest minimum (initial) size of a defined memory, in pages. */
  largestMinimumPages: number;
}

/**
 * Sets the maximum of every memory a core module defines to at most `maxPages`
 * (imported memories are bounded by the module that defines them). Throws when a
 * memory needs more than that to start.
 */
export function capModuleMemory(module: Uint8Array, maxPages: number): MemoryCapResult {
  if (detectBinaryKind(module) !== 'module') throw new BinaryFormatError('not a core Wasm module');
  let largestMinimumPages = 0;
  const sections = readSections(module).map((section): Section => {
    if (section.id !== 5) return section;
    const reader: Reader = { bytes: section.payload, offset: 0 };
    const count = readU32(reader);
    const out: number[] = [...encodeUnsigned(count)];
    for (let index = 0; index < count; index++) {
      const flags = section.payload[reader.offset];
      if (flags === undefined) throw new BinaryFormatError('truncated memory section');
      reader.offset++;
      const hasMax = (flags & 0x01) !== 0;
      const hasPageSize = (flags & 0x08) !== 0;
      const minimum = readUnsigned(reader);
      const maximum = hasMax ? readUnsigned(reader) : undefined;
      const pageSizeLog2 = hasPageSize ? readU32(reader) : 16;
      // Custom page sizes: convert the cap from 64 KiB pages.
      const cap = BigInt(Math.floor((maxPages * wasmPageBytes) / 2 ** pageSizeLog2));
      const minimumPages = Number((minimum * 2n ** BigInt(pageSizeLog2)) / BigInt(wasmPageBytes));
      largestMinimumPages = Math.max(largestMinimumPages, minimumPages);
      if (minimum > cap) {
        throw new BinaryFormatError(`a memory starts at ${minimumPages} pages, more than the cap of ${maxPages}`);
      }
      const newMaximum = maximum === undefined || maximum > cap ? cap : maximum;
      out.push(flags | 0x01, ...encodeUnsigned(minimum), ...encodeUnsigned(newMaximum));
      if (hasPageSize) out.push(...encodeUnsigned(pageSizeLog2));
    }
    if (reader.offset !== section.payload.length) throw new BinaryFormatError('unexpected bytes in the memory section');
    return { id: 5, payload: Uint8Array.from(out) };
  });
  return { bytes: writeSections(module.subarray(0, 8), sections), largestMinimumPages };
}
