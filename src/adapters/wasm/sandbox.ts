// The WASI a plugin sees, deny-by-default: no environment, no preopened folders and no
// network unless its config grants them. preview2-shim has no read-only preopens, so
// read-only folders are enforced here by wrapping every descriptor that comes from them.
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { throwGuestError } from './values.js';

export interface PreopenGrant {
  /** The path the guest sees (`/data`). */
  guest: string;
  /** The host folder it maps to (absolute). */
  host: string;
  readOnly: boolean;
}

export interface SandboxOptions {
  /** Granted environment variables only; the values are secrets and never logged. */
  env: Readonly<Record<string, string>>;
  preopens: readonly PreopenGrant[];
  network: boolean;
  /** argv[0] the guest sees. */
  programName: string;
}

type ImportObject = Record<string, Record<string, unknown>>;

// Methods of wasi:filesystem/types#descriptor that change something.
const writingMethods = [
  'writeViaStream',
  'appendViaStream',
  'setSize',
  'setTimes',
  'write',
  'createDirectoryAt',
  'setTimesAt',
  'linkAt',
  'removeDirectoryAt',
  'renameAt',
  'symlinkAt',
  'unlinkFileAt',
] as const;

interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}

interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  mutateDirectory?: boolean;
  [flag: string]: boolean | undefined;
}

type Descriptor = Record<string, unknown> & {
  openAt(pathFlags: unknown, path: string, openFlags: OpenFlags, descriptorFlags: DescriptorFlags): Descriptor;
  getFlags(): DescriptorFlags | undefined;
};

const readOnlyDescriptors = new WeakSet<object>();
/** Told of each refusal (the worker passes it on to the metrics); one sandbox per worker. */
let onRefused: () => void = () => {};

/** Refuses the guest's request with a WASI error, and says so. */
function refuse(error: Parameters<typeof throwGuestError>[0]): never {
  onRefused();
  return throwGuestError(error);
}
const wrapped = new WeakSet<object>();

/** Makes a descriptor (and everything opened through it) obey its grant. */
function guardDescriptor(descriptor: Descriptor, readOnly: boolean): void {
  if (wrapped.has(descriptor)) return;
  wrapped.add(descriptor);
  if (readOnly) readOnlyDescriptors.add(descriptor);
  const openAt = descriptor.openAt.bind(descriptor);
  const getFlags = descriptor.getFlags.bind(descriptor);
  const renameAt = (descriptor.renameAt as (...args: unknown[]) => unknown).bind(descriptor);
  const linkAt = (descriptor.linkAt as (...args: unknown[]) => unknown).bind(descriptor);
  Object.defineProperty(descriptor, 'openAt', {
    value(pathFlags: unknown, path: string, openFlags: OpenFlags, descriptorFlags: DescriptorFlags): Descriptor {
      if (readOnly && (openFlags.create || openFlags.truncate || openFlags.exclusive || descriptorFlags.write || descriptorFlags.mutateDirectory)) {
        refuse('read-only');
      }
      const child = openAt(pathFlags, path, openFlags, descriptorFlags);
      guardDescriptor(child, readOnly);
      return child;
    },
  });
  Object.defineProperty(descriptor, 'getFlags', {
    value(): DescriptorFlags {
      // Preopens report no flags in preview2-shim; say what the guest may do.
      const flags = getFlags() ?? { read: true, mutateDirectory: true };
      return readOnly ? { ...flags, write: false, mutateDirectory: false } : flags;
    },
  });
  if (readOnly) {
    for (const method of writingMethods) {
      Object.defineProperty(descriptor, method, {
        value() {
          refuse('read-only');
        },
      });
    }
    return;
  }
  // A writable folder must not be the way to write into a read-only one.
  Object.defineProperty(descriptor, 'renameAt', {
    value(oldPath: string, target: object, newPath: string) {
      if (readOnlyDescriptors.has(target)) refuse('read-only');
      return renameAt(oldPath, target, newPath);
    },
  });
  Object.defineProperty(descriptor, 'linkAt', {
    value(oldPathFlags: unknown, oldPath: string, target: object, newPath: string) {
      if (readOnlyDescriptors.has(target)) refuse('read-only');
      return linkAt(oldPathFlags, oldPath, target, newPath);
    },
  });
}

/** The WASI part of the import map, keyed the way jco asks for it (unversioned). */
export function createSandboxImports(options: SandboxOptions, refused?: () => void): ImportObject {
  if (refused) onRefused = refused;
  const preopens: Record<string, string> = {};
  for (const grant of options.preopens) preopens[grant.guest] = grant.host;
  const shim = new WASIShim({
    sandbox: { preopens, env: { ...options.env }, args: [options.programName], enableNetwork: options.network },
  });
  const imports = shim.getImportObject() as unknown as ImportObject;

  if (!options.network) {
    // preview2-shim denies with a plain string, which is not a wasi:http error-code
    // (a variant) and would trap the guest; answer with the variant for "denied".
    imports['wasi:http/outgoing-handler'] = {
      handle() {
        refuse({ tag: 'HTTP-request-denied' });
      },
    };
  }

  const environment = Object.entries(options.env);
  imports['wasi:cli/environment'] = {
    getEnvironment: () => environment,
    getArguments: () => [options.programName],
    // The host's working directory is none of the guest's business.
    initialCwd: () => undefined,
  };

  const directories = (imports['wasi:filesystem/preopens']?.getDirectories as (() => [Descriptor, string][]) | undefined)?.() ?? [];
  for (const [descriptor, guestPath] of directories) {
    const grant = options.preopens.find((candidate) => candidate.guest === guestPath);
    guardDescriptor(descriptor, grant?.readOnly ?? true);
  }
  return imports;
}
