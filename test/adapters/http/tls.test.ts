// HTTPS plugin APIs: certificates are verified (an untrusted one is refused, for the
// manifest and for calls), and a private CA is trusted the Node way, NODE_EXTRA_CA_CERTS.
// The certificate in test/fixtures/http/tls is self-signed for 127.0.0.1, for tests only.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport } from '../../../src/toolport.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { binPath, repoRoot } from '../../helpers/toolport-process.js';

const tlsDir = fileURLToPath(new URL('../../fixtures/http/tls/', import.meta.url));
const certPath = join(tlsDir, 'cert.pem');
const secret = 'tls-secret-31f0';

let server: Server;
let origin: string;
const scratch = useTempDir('toolport-http-tls-', 'all');
let manifestPath: string;

function manifest(): Record<string, unknown> {
  return {
    manifest_version: '1', developer_id: 'tls', version: '1.0.0', name: 'tls-test', name_for_human: 'TLS test',
    name_for_machine: 'tls', description_for_human: 'Echo over HTTPS.', description_for_machine: 'Echo over HTTPS.',
    author_name: 'toolport tests', contact_email: 'tests@example.com',
    api: {
      base_url: `${origin}/api`,
      endpoints: [{
        name: 'echo', description: 'Echo.', path: '/echo',
        input: [{ name: 'text', type: 'string', required: true, description: 'Text.' }],
        output: [{ name: 'text', type: 'string', description: 'Text.', example: 'a' }],
      }],
    },
  };
}

beforeAll(async () => {
  server = createServer({ cert: readFileSync(certPath), key: readFileSync(join(tlsDir, 'key.pem')) }, (req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/carterplugin.json') return res.end(JSON.stringify(manifest()));
      if (req.headers['x-carter-plugin-secret-token'] !== secret) return res.writeHead(403).end('{}');
      const { data } = JSON.parse(raw) as { data: { text: string } };
      return res.end(JSON.stringify({ success: true, data: { text: `tls: ${data.text}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  manifestPath = join(scratch.path, 'tls.json');
  await writeFile(manifestPath, JSON.stringify(manifest()));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('http plugins over HTTPS', () => {
  it('an untrusted certificate is refused, for the manifest and for calls', async () => {
    const toolport = await createToolport(
      parseConfig({ plugins: [{ path: `${origin}/carterplugin.json`, readOnly: ['*'] }, { path: manifestPath, secretToken: secret, readOnly: ['*'] }] }),
      { stateDir: scratch.path },
    );
    try {
      expect(toolport.diagnostics.map((entry) => entry.message)).toEqual([
        `plugins[0] ${origin}/carterplugin.json: cannot fetch the manifest: its TLS certificate was not accepted`,
      ]);
      const result = await callTool(toolport, 'tls__echo', { text: 'hi' });
      expect(result?.isError).toBe(true);
      expect(result?.content).toEqual([{ type: 'text', text: `echo: no answer from the plugin's API (${origin}): its TLS certificate was not accepted` }]);
    } finally {
      await toolport.close();
    }
  });

  it('a certificate trusted through NODE_EXTRA_CA_CERTS works', async () => {
    const config = join(scratch.path, 'toolport.yaml');
    await writeFile(config, `plugins:\n  - path: ${origin}/carterplugin.json\n    secretToken: ${secret}\n    readOnly: ["*"]\n`);
    const { stdout } = await promisify(execFile)(process.execPath, [binPath, 'call', 'tls__echo', '{"text":"trusted"}', '--config', config, '--json'], {
      cwd: repoRoot,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath },
    });
    expect(JSON.parse(stdout)).toEqual({ content: [{ type: 'text', text: '{"text":"tls: trusted"}' }], structuredContent: { text: 'tls: trusted' } });
  });
});
