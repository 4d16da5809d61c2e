// Build step after tsc: writes the config's JSON Schema, generated from the zod schema, to
// dist/config/toolport.schema.json (shipped in the package; `toolport schema` prints the same).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { configSchemaFileName, toConfigJsonSchema } = await import(`${root}dist/config/json-schema.js`);
writeFileSync(`${root}dist/config/${configSchemaFileName}`, `${JSON.stringify(toConfigJsonSchema(), null, 2)}\n`);
