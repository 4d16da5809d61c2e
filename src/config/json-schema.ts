// The config's JSON Schema, for editors (`# yaml-language-server: $schema=…`) and other
// tools: generated from the zod schema the config is validated with, so the two cannot
// drift apart. Draft 7, which editors' YAML support reads. `toolport schema` prints it; the build
// ships it as toolport.schema.json.
import { z } from 'zod';
import { configSchema } from './schema.js';

export const configSchemaFileName = 'toolport.schema.json';

export function toConfigJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-07', unrepresentable: 'throw' });
  return {
    ...generated,
    title: 'toolport config',
    description:
      'toolport.yaml (or .json): the server, the plugins to serve and the policy in front of them. ' +
      '${VAR} and ${VAR:-default} in string values are taken from the environment.',
  };
}
