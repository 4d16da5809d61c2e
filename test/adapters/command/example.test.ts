// The bundled example skill (examples/command) works as the README says, and the examples
// folder that `npm start` serves loads without errors.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { binPath, repoRoot } from '../../helpers/toolport-process.js';
import { sandboxForTests, sandboxWorks, textOf } from './helpers.js';

const example = fileURLToPath(new URL('../../../examples/command', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples', import.meta.url));

let toolport: Toolport;

beforeAll(async () => {
  toolport = await createToolport(parseConfig({ plugins: [{ path: example, ...sandboxForTests, readOnly: ['*'] }] }));
});

afterAll(async () => {
  await toolport?.close();
});

describe('example: examples/command (the units skill)', () => {
  it('loads cleanly with typed schemas from skill.toml', () => {
    expect(toolport.diagnostics.filter((d) => d.level !== 'info' && !d.message.includes(': sandbox: off'))).toEqual([]);
    const convert = toolport.registry.get('units__convert_temperature');
    expect(convert?.mcpTool.inputSchema).toMatchObject({
      properties: { value: { type: 'number' }, unit: { type: 'string', enum: ['C', 'F', 'K'] } },
      required: ['value', 'unit'],
    });
  });

  it('convert_temperature answers JSON, also as structured content', async () => {
    const result = await callTool(toolport, 'units__convert_temperature', { value: 21.5, unit: 'C' });
    expect(textOf(result)).toBe('{"celsius": 21.50, "fahrenheit": 70.70, "kelvin": 294.65}\n');
    expect(result.structuredContent).toEqual({ celsius: 21.5, fahrenheit: 70.7, kelvin: 294.65 });
    const kelvin = await callTool(toolport, 'units__convert_temperature', { value: 0, unit: 'K' });
    expect(kelvin.structuredContent).toEqual({ celsius: -273.15, fahrenheit: -459.67, kelvin: 0 });
  });

  it('convert_temperature reports impossible input as an error the model can read', async () => {
    const result = await callTool(toolport, 'units__convert_temperature', { value: -500, unit: 'F' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('convert_temperature failed with exit code 2.\nstderr:\n-500 F is below absolute zero\n');
  });

  it('count_words counts words and lines, taking the text literally', async () => {
    const result = await callTool(toolport, 'units__count_words', { text: 'one two\nthree $(four) ; five' });
    expect(result.structuredContent).toEqual({ words: 6, lines: 2 });
  });

  it.skipIf(!sandboxWorks)('toolport check passes for the examples folder that npm start serves (needs bubblewrap)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [binPath, 'check', examples], { cwd: repoRoot });
    expect(stdout).toMatch(/^ok: \d+ tools\n$/);
  });
});
