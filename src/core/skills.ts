// Skill folders served through the MCP skills extension (io.modelcontextprotocol/skills,
// the SDK's `ext/skills`): skills/list, skills/get (the SKILL.md) and resources/directory/read
// (the folder's other files). Read-only, and never anything outside a skill's folder: paths
// with `..`, hidden files and folders, and symlinks are not served. The SKILL.md served ends
// with the skill's tools under the names clients call them by.
import { constants } from 'node:fs';
import { open, readdir, readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SkillsExtension, type SkillFileEntry, type SkillFiles, type SkillWarning } from '@modelcontextprotocol/server/ext/skills';

export interface SkillFolder {
  /** The skill's name (SKILL.md frontmatter `name`); its folder in `skill://` URIs. */
  readonly name: string;
  /** The folder, absolute. */
  readonly folder: string;
  /** The skill's tools as clients see them (exposed names). */
  readonly tools: readonly { readonly name: string; readonly description?: string | undefined }[];
}

/** What the skills extension requires of a skill name (and what its folder is called). */
const skillNamePattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The text appended to SKILL.md so an agent that reads the skill can call its tools. */
export function toolsSection(tools: SkillFolder['tools']): string {
  if (tools.length === 0) return '';
  const lines = tools.map((tool) => `- \`${tool.name}\`${tool.description ? `: ${tool.description.replace(/\s+/g, ' ').trim()}` : ''}`);
  return `\n\n## Tools\n\nThis skill's tools, as this MCP server serves them (call them by these names):\n\n${lines.join('\n')}\n`;
}

/**
 * SKILL.md as the skills extension accepts it: `metadata` must map strings to strings, and
 * EvoClaw nests (`metadata.evoclaw.permissions: [...]`), so a nested value is served as its
 * JSON text. Anything else of the file is served as written.
 */
export function servedManifest(text: string): string {
  const match = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!match) return text;
  let frontmatter: unknown;
  try {
    frontmatter = parseYaml(match[1] ?? '', { schema: 'failsafe' });
  } catch {
    return text;
  }
  if (typeof frontmatter !== 'object' || frontmatter === null || Array.isArray(frontmatter)) return text;
  const fields = frontmatter as Record<string, unknown>;
  const metadata = fields.metadata;
  if (metadata === undefined || (isStringMap(metadata))) return text;
  const flat =
    typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
      ? Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]))
      : { value: JSON.stringify(metadata) };
  let written: string;
  try {
    written = blockYaml({ ...fields, metadata: flat }, '');
  } catch {
    // Served as written: the catalog says what it cannot read.
    return text;
  }
  return `---\n${written}---\n${text.slice(match[0].length)}`;
}

// A key is plain only where it cannot read as a number, a boolean or null (the SDK's reader
// refuses such keys, and YAML would read other ones).
const plainKey = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// Words and punctuation that read as a string in every YAML schema; anything else is quoted.
const plainText = /^[A-Za-z][A-Za-z0-9 _.,'()/-]*[A-Za-z0-9_.)/]$|^[A-Za-z]$/;
const typedWords = /^(?:true|false|null|yes|no|on|off|y|n)$/i;

/** A string as a YAML scalar: plain where that cannot read as anything else, else a JSON string (valid YAML, read back the same). */
function scalar(text: string): string {
  return plainText.test(text) && !typedWords.test(text) ? text : JSON.stringify(text);
}

/**
 * A failsafe-parsed value (strings, sequences, mappings) as block YAML.
 * (The yaml package's stringify does this too, but its first call costs ~6 ms at start.)
 */
function blockYaml(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    return value.map((item) => `${indent}-${nested(item, `${indent}  `)}`).join('');
  }
  return Object.entries(value as Record<string, unknown>)
    .map(([key, item]) => `${indent}${plainKey.test(key) && !typedWords.test(key) ? key : JSON.stringify(key)}:${nested(item, `${indent}  `)}`)
    .join('');
}

/**
 * What follows a key or a dash: a scalar on the same line, a collection on the lines below.
 * Anything else (a tagged `!!set` or `!!omap` reads as a Set or a Map) cannot be written back.
 */
function nested(value: unknown, indent: string): string {
  if (typeof value === 'string') return ` ${scalar(value)}\n`;
  if (Array.isArray(value)) return value.length === 0 ? ' []\n' : `\n${blockYaml(value, indent)}`;
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.keys(value).length === 0 ? ' {}\n' : `\n${blockYaml(value, indent)}`;
  }
  throw new TypeError('a frontmatter value that is not a string, a sequence or a mapping');
}

function isStringMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((member) => typeof member === 'string');
}

/** The parts of a relative path, refused when one could leave the folder or is hidden. */
function segmentsOf(path: string): string[] {
  const parts = path.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.startsWith('.') || part.includes('\\') || part.includes('\0')) {
      throw new TypeError(`not a path inside a skill folder: ${JSON.stringify(path)}`);
    }
  }
  return parts;
}

/** Reads a regular file under `root`, refusing symlinks (also in the folders on the way) and anything outside. */
async function readInside(root: string, parts: readonly string[]): Promise<Uint8Array> {
  const realRoot = await realpath(root);
  const path = join(realRoot, ...parts);
  // A symlinked folder on the way would move the real path outside (or elsewhere inside): refused.
  if ((await realpath(path)) !== path || !path.startsWith(realRoot + sep)) throw new TypeError('not a file inside the skill folder');
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!(await handle.stat()).isFile()) throw new TypeError('not a regular file');
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Storage for the skills catalog: one virtual folder per skill, each backed by its real folder. */
function folderFiles(skills: ReadonlyMap<string, { folder: string; manifest: Uint8Array }>): SkillFiles {
  const locate = (path: string): { skill: { folder: string; manifest: Uint8Array }; rest: string[] } => {
    const [name, ...rest] = segmentsOf(path);
    const skill = name === undefined ? undefined : skills.get(name);
    if (!skill) throw new TypeError(`no skill at ${JSON.stringify(path)}`);
    return { skill, rest };
  };
  return {
    async list(dir) {
      if (dir === '') return [...skills.keys()].map((name): SkillFileEntry => ({ name, kind: 'directory' }));
      const { skill, rest } = locate(dir);
      const entries = await readdir(join(skill.folder, ...rest), { withFileTypes: true });
      // Only regular files and folders, not hidden: symlinks and special files are not served.
      return entries
        .filter((entry) => !entry.name.startsWith('.'))
        .flatMap((entry): SkillFileEntry[] => (entry.isFile() ? [{ name: entry.name, kind: 'file' }] : entry.isDirectory() ? [{ name: entry.name, kind: 'directory' }] : []));
    },
    async read(path) {
      const { skill, rest } = locate(path);
      if (rest.length === 1 && rest[0] === 'SKILL.md') return skill.manifest;
      return await readInside(skill.folder, rest);
    },
  };
}

type ServedSkill = { folder: string; manifest: Uint8Array };

/** The folders that can be served, by skill name; `onWarning` says why one cannot. */
async function collectSkills(folders: readonly SkillFolder[], onWarning: (warning: SkillWarning) => void): Promise<Map<string, ServedSkill>> {
  const skills = new Map<string, ServedSkill>();
  for (const skill of folders) {
    if (!skillNamePattern.test(skill.name) || skill.name.length > 64) {
      onWarning({ path: skill.folder, message: `the skill name "${skill.name}" is not served as an MCP skill: a skill name is 1-64 lowercase letters, digits and single hyphens` });
      continue;
    }
    if (skills.has(skill.name)) {
      onWarning({ path: skill.folder, message: `the skill name "${skill.name}" is served already (by ${skills.get(skill.name)?.folder}); this folder is not served as an MCP skill` });
      continue;
    }
    const text = await readFile(join(skill.folder, 'SKILL.md'), 'utf8');
    skills.set(skill.name, { folder: skill.folder, manifest: Buffer.from(`${servedManifest(text).replace(/\s+$/, '')}\n${toolsSection(skill.tools)}`) });
  }
  return skills;
}

export interface SkillCatalogHandle {
  /** What servers attach. */
  readonly extension: SkillsExtension;
  /**
   * Serves these folders from now on (a plugin withdrawn, or its tools changed): the catalog
   * is read again, and attached servers hear resources/list_changed when the list changed.
   * Resolves with whether it did. Updates run one after another; a failed one leaves the
   * catalog as it was.
   */
  update(folders: readonly SkillFolder[]): Promise<boolean>;
}

/**
 * The skills catalog of these folders, or undefined when there are none. A folder whose
 * skill cannot be served (a name the extension does not allow, a name taken, a SKILL.md the
 * extension rejects) is left out and `onWarning` says why: at load, and once for each update
 * (`onUpdateWarning`).
 */
export async function loadSkillCatalog(
  folders: readonly SkillFolder[],
  onWarning: (warning: SkillWarning) => void,
  onUpdateWarning: (warning: SkillWarning) => void = () => {},
): Promise<SkillCatalogHandle | undefined> {
  const skills = await collectSkills(folders, onWarning);
  if (skills.size === 0) return undefined;
  // The catalog reports what it finds through this, at load and at each reload.
  let report = onWarning;
  // Every folder was already said; "no skills found" (when none could be served) adds nothing.
  const catalog = await SkillsExtension.load(folderFiles(skills), {
    onWarning: (warning) => {
      if (warning.path !== '.') report(warning);
    },
  });
  if (catalog.entries.length === 0) return undefined;
  report = onUpdateWarning;
  let updating: Promise<unknown> = Promise.resolve();
  const update = async (next: readonly SkillFolder[]): Promise<boolean> => {
    const fresh = await collectSkills(next, onUpdateWarning);
    const previous = new Map(skills);
    skills.clear();
    for (const [name, skill] of fresh) skills.set(name, skill);
    try {
      return (await catalog.reload()).listChanged;
    } catch (error) {
      // The catalog keeps serving what it served: so do its files.
      skills.clear();
      for (const [name, skill] of previous) skills.set(name, skill);
      throw error;
    }
  };
  return {
    extension: catalog,
    update(next) {
      const run = updating.then(() => update(next));
      updating = run.catch(() => {});
      return run;
    },
  };
}
