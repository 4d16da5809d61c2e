// Turns an agent.toml `command` into the program to run, as EvoClaw does: a leading `~` is
// the home folder, a path with a slash is relative to the skill folder, a bare name is
// looked up on PATH. Checked at load so a missing or non-executable command is reported early.
import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { checkExecutable, findOnPath, isInside } from '../../core/file-paths.js';

export type ResolvedCommand = { readonly file: string } | { readonly problem: string };


/** A hint for the common case of a skill written for ~/.evoclaw/skills/NAME but kept elsewhere. */
function homeHint(command: string, skillDir: string): string {
  const match = /^~\/\.evoclaw\/skills\/[^/]+\/(.+)$/.exec(command);
  if (!match?.[1]) return '';
  const local = resolve(skillDir, match[1]);
  if (isInside(skillDir, local) && checkExecutable(local) === 'ok') {
    return `; this skill folder has ${match[1]}: write command = "${match[1]}" to run it from here`;
  }
  return '';
}

export async function resolveCommand(command: string, skillDir: string, path: string | undefined): Promise<ResolvedCommand> {
  if (command.trim() === '') return { problem: 'is empty' };
  if (command.includes('\0')) return { problem: 'contains a NUL character' };
  let file: string;
  if (command.startsWith('~')) {
    // EvoClaw joins the home folder with everything after the `~`.
    file = join(homedir(), command.slice(1));
  } else if (command.includes('/')) {
    file = isAbsolute(command) ? command : resolve(skillDir, command);
    if (!isAbsolute(command)) {
      // A relative command names a file of the skill; through `..` or a symlink it could
      // name any file, which a skill folder must not do.
      let real: string;
      try {
        real = await realpath(file);
      } catch {
        real = file;
      }
      const realDir = await realpath(skillDir).catch(() => skillDir);
      if (!isInside(skillDir, file) || !isInside(realDir, real)) {
        return { problem: `"${command}" points outside the skill folder; use an absolute path for programs elsewhere` };
      }
    }
  } else {
    const found = findOnPath(command, path);
    if (found) return { file: found };
    let hint = '';
    if (/\s/.test(command)) hint = ' (the command is one program, run without a shell: put its arguments in `args`)';
    else if (checkExecutable(join(skillDir, command)) !== 'missing') hint = `; the skill folder has ${command}: write "./${command}" to run it`;
    return { problem: `"${command}" was not found on PATH${hint}` };
  }
  switch (checkExecutable(file)) {
    case 'ok':
      return { file };
    case 'missing':
      return { problem: `"${command}" does not exist (${file})${homeHint(command, skillDir)}` };
    case 'not-a-file':
      return { problem: `"${command}" is not a file (${file})` };
    case 'not-executable':
      return { problem: `"${command}" is not executable (${file}); run chmod +x on it` };
  }
}
