// Plugins ask the caller in every era, through real SDK clients: on 2025-era connections
// (stdio, sessionful HTTP, SSE) with server→client requests, on 2026-07-28 (HTTP and stdio)
// with input_required round trips that run the tool again with the answers. Module tools
// that elicit, sample, ask twice in a row and twice at once; the same from a Python plugin;
// a client without the capability gets -32021 (HTTP 400); a tampered or replayed
// requestState is refused; a tool that asks something else on replay is refused.
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport, type ClientCapabilities } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapWorks, needsBwrap, sandboxForTests } from '../helpers/sandbox.js';
import { connectClient, connectWithoutStandaloneStream, serveConfig, type ConfiguredServer, type Era } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const asks = fileURLToPath(new URL('../fixtures/module/asks.mjs', import.meta.url));
const asking = fileURLToPath(new URL('../fixtures/python/asking.py', import.meta.url));
const everyone: ClientCapabilities = { elicitation: { form: {} }, sampling: {} };

let http: ConfiguredServer;

beforeAll(async () => {
  http = await serveConfig([
    'plugins:',
    `  - path: ${asks}`,
    `  - path: ${asking}`,
    ...(sandboxForTests.sandbox ? ['    sandbox: off'] : []),
  ]);
}, 60_000);

afterAll(async () => {
  await http?.stop();
});

const modern = (era: Era): boolean => era === 'http-2026' || era === 'stdio-modern';

/**
 * A client that answers every form with the next of `answers` (a name, or the form's content)
 * and every sampling request with "short"; `asked` holds the first line of each question.
 */
async function askedClient(era: Era, answers: (string | Record<string, string | boolean>)[], capabilities: ClientCapabilities = everyone): Promise<{ client: Client; asked: string[] }> {
  const client = await connectClient(era, era.startsWith('stdio') ? { serveArgs: ['--config', http.configPath] } : { url: http.url }, { capabilities });
  const asked: string[] = [];
  if (capabilities.elicitation) {
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(request.params.message.split('\n')[0] ?? '');
      const next = answers.shift() ?? 'nobody';
      return { action: 'accept', content: typeof next === 'string' ? { name: next } : next };
    });
  }
  if (capabilities.sampling) {
    client.setRequestHandler('sampling/createMessage', (request) => {
      const content = request.params.messages.at(-1)?.content;
      asked.push(content && !Array.isArray(content) && content.type === 'text' ? content.text : '?');
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'short' } };
    });
  }
  return { client, asked };
}

async function runsOf(client: Client): Promise<Record<string, number>> {
  return JSON.parse(textOf(await client.callTool({ name: 'asks__runs', arguments: {} }))) as Record<string, number>;
}

describe.each<Era>(['stdio', 'http-2025', 'sse', 'http-2026', 'stdio-modern'])('a module tool asks over %s', (era) => {
  it('elicits, samples, asks twice in a row and twice at once; 2026-07-28 runs it again per round', async () => {
    const { client, asked } = await askedClient(era, ['Ada', 'Ada', 'Bo', 'Cy']);
    try {
      const before = await runsOf(client);
      expect(textOf(await client.callTool({ name: 'asks__greet', arguments: {} }))).toBe('hello Ada');
      expect(textOf(await client.callTool({ name: 'asks__summarize', arguments: { text: 'a long story' } }))).toBe('summary: short (by test-model)');
      expect(textOf(await client.callTool({ name: 'asks__pair', arguments: {} }))).toBe('Ada and Bo');
      expect(textOf(await client.callTool({ name: 'asks__both', arguments: {} }))).toBe('Cy / short');
      // Each question reached the client once, in order (a replay answers from the state).
      expect(asked).toEqual(['Who are you?', 'Summarize: a long story', 'First name?', 'Second name, after Ada?', 'Who asks?', 'Say something.']);
      const after = await runsOf(client);
      const ran = (tool: string): number => (after[tool] ?? 0) - (before[tool] ?? 0);
      // 2025-era: one run each. 2026-07-28: one more run per round of questions.
      expect([ran('greet'), ran('summarize'), ran('pair'), ran('both')]).toEqual(modern(era) ? [2, 2, 3, 2] : [1, 1, 1, 1]);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('a client without the capability gets -32021, not an isError text', async () => {
    const { client } = await askedClient(era, [], {});
    try {
      await expect(client.callTool({ name: 'asks__greet', arguments: {} })).rejects.toMatchObject({ code: -32021 });
      await expect(client.callTool({ name: 'asks__summarize', arguments: { text: 'x' } })).rejects.toMatchObject({ code: -32021 });
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('a module tool asks over HTTP with sessions, a client that opens no standalone stream', () => {
  it('the questions arrive on the call\'s own stream, both at once, and the tool answers', async () => {
    const asked: string[] = [];
    const client = new Client({ name: 'no-get-stream', version: '1.0.0' }, { capabilities: everyone });
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { name: 'Di' } };
    });
    client.setRequestHandler('sampling/createMessage', () => {
      asked.push('sampling');
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'short' } };
    });
    await connectWithoutStandaloneStream(client, http.url);
    try {
      expect(textOf(await client.callTool({ name: 'asks__both', arguments: {} }))).toBe('Di / short');
      expect(asked.sort()).toEqual(['Who asks?', 'sampling']);
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('a 2026-07-28 round trip over HTTP', () => {
  /** A 2026-07-28 client whose requests (and the statuses of their answers) are recorded. */
  async function recordingClient(capabilities: ClientCapabilities): Promise<{ client: Client; sent: { body: string; headers: Record<string, string>; status: number }[] }> {
    const sent: { body: string; headers: Record<string, string>; status: number }[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      sent.push({ body: typeof init?.body === 'string' ? init.body : '', headers: Object.fromEntries(new Headers(init?.headers).entries()), status: response.status });
      return response;
    };
    const client = new Client({ name: 'recorder', version: '1.0.0' }, { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    if (capabilities.elicitation) client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { name: 'Ada' } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`), { fetch: recordingFetch }));
    return { client, sent };
  }
  const resend = async (request: { body: string; headers: Record<string, string> }): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${http.url}/mcp`, { method: 'POST', headers: request.headers, body: request.body });
    return { status: response.status, text: await response.text() };
  };

  it('a client without elicitation gets -32021 with HTTP 400', async () => {
    const { client, sent } = await recordingClient({});
    try {
      await expect(client.callTool({ name: 'asks__greet', arguments: {} })).rejects.toMatchObject({ code: -32021 });
      const call = sent.find((request) => request.body.includes('"tools/call"'));
      expect(call?.status).toBe(400);
    } finally {
      await client.close();
    }
  });

  it('a replayed requestState with its answers is refused; the tool does not run again', async () => {
    const { client, sent } = await recordingClient({ elicitation: { form: {} } });
    try {
      expect(textOf(await client.callTool({ name: 'asks__pair', arguments: {} }))).toBe('Ada and Ada');
      const retries = sent.filter((request) => request.body.includes('"inputResponses"'));
      expect(retries).toHaveLength(2);
      const before = await runsOf(client);
      for (const retry of retries) {
        const replayed = await resend(retry);
        expect(replayed.text).toContain('these answers were already used');
        expect(replayed.text).toContain('"isError":true');
      }
      expect((await runsOf(client)).pair).toBe(before.pair);
    } finally {
      await client.close();
    }
  });

  it('a requestState whose recorded answers were changed is refused', async () => {
    const { client, sent } = await recordingClient({ elicitation: { form: {} } });
    try {
      await client.callTool({ name: 'asks__pair', arguments: {} });
      const last = sent.filter((request) => request.body.includes('"inputResponses"')).at(-1);
      if (!last) throw new Error('no retry was recorded');
      const body = JSON.parse(last.body) as { params: { requestState: string } };
      const [version, payload, mac] = body.params.requestState.split('.') as [string, string, string];
      const decoded = Buffer.from(payload, 'base64url').toString('utf8');
      expect(decoded).toContain('"Ada"');
      // The answers travel signed: changing one (and not the signature) breaks the state.
      body.params.requestState = [version, Buffer.from(decoded.replace('"Ada"', '"Eve"')).toString('base64url'), mac].join('.');
      const forged = await resend({ ...last, body: JSON.stringify(body) });
      expect(forged.text).toContain('Invalid or expired requestState');
      expect(forged.text).not.toContain('Eve');
    } finally {
      await client.close();
    }
  });

  it('a tool that asks something else when it runs again is refused', async () => {
    const { client } = await recordingClient({ elicitation: { form: {} } });
    try {
      const result = await client.callTool({ name: 'asks__fickle', arguments: {} });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('asked a different question 1 when it ran again');
    } finally {
      await client.close();
    }
  });
});

describe('limits of a 2026-07-28 call that asks', () => {
  it('at most 16 questions per call', async () => {
    const { client, asked } = await askedClient('http-2026', []);
    try {
      const result = await client.callTool({ name: 'asks__endless', arguments: {} });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe('asks__endless asked more than 16 questions in one call');
      expect(asked).toHaveLength(16);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('the answers a state carries are capped (256 KiB)', async () => {
    const { client } = await askedClient('http-2026', []);
    client.setRequestHandler('sampling/createMessage', () => ({ model: 'test-model', role: 'assistant', content: { type: 'text', text: 'x'.repeat(300 * 1024) } }));
    try {
      const result = await client.callTool({ name: 'asks__chatty', arguments: {} });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('larger than 256 KiB');
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe.skipIf(!bwrapWorks && sandboxForTests.sandbox === undefined)(`a Python plugin asks${needsBwrap}`, () => {
  describe.each<Era>(['http-2025', 'http-2026'])('over %s', (era) => {
    it('elicits, samples and asks for approval', async () => {
      const { client, asked } = await askedClient(era, ['Ada', { approve: false, reason: 'not today' }]);
      try {
        expect(textOf(await client.callTool({ name: 'acme_asking__greet', arguments: {} }))).toBe('hello Ada');
        expect(textOf(await client.callTool({ name: 'acme_asking__haiku', arguments: {} }))).toBe('haiku: short');
        expect(textOf(await client.callTool({ name: 'acme_asking__delete_all', arguments: {} }))).toBe('kept (not today)');
        expect(asked).toEqual(['Who are you?', 'Write a haiku about tea.', 'The plugin asking asks for approval: request_approval']);
      } finally {
        await client.close();
      }
    }, 60_000);

    it('a client without the capability gets -32021', async () => {
      const { client } = await askedClient(era, [], {});
      try {
        await expect(client.callTool({ name: 'acme_asking__greet', arguments: {} })).rejects.toMatchObject({ code: -32021 });
      } finally {
        await client.close();
      }
    }, 60_000);
  });
});

describe('module plugin prompts', () => {
  it('are listed and rendered by the plugin', async () => {
    const client = await connectClient('http-2026', { url: http.url });
    try {
      const { prompts } = await client.listPrompts();
      expect(prompts.find((prompt) => prompt.name === 'asks__welcome')).toMatchObject({ description: 'Welcomes someone.', arguments: [{ name: 'who', required: true }] });
      const rendered = await client.getPrompt({ name: 'asks__welcome', arguments: { who: 'Ada' } });
      expect(rendered.description).toBe('Welcome for Ada');
      expect(rendered.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Welcome Ada; then call asks__greet.' } }]);
    } finally {
      await client.close();
    }
  });
});
