// The MQTT event stream against a real MQTT broker (mosquitto, else aedes): every event of a served session
// arrives as JSON on toolport/<server name>/events with secrets scrubbed (arguments, results,
// plugin messages); arguments and results stay out unless asked for; a custom topic works;
// a broker that is down never slows a call or the shutdown.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createToolport } from '../../src/toolport.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { brokerName, freePort, startBroker, type Broker } from '../helpers/mqtt-broker.js';
import { connectClient, runToolport, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';
import { oneEndpointManifest } from '../helpers/carter-manifest.js';

const kitchen = fileURLToPath(new URL('../fixtures/hooks/kitchen.mjs', import.meta.url));
const supplierKey = 'supplier-key-very-secret-1234';
const chefToken = 'chef-token-also-secret-5678';

interface Received {
  topic: string;
  raw: string;
  event: Record<string, unknown>;
}

const dir = useTempDir('toolport-events-', 'all');
let broker: Broker;
let subscriber: MqttClient;
const received: Received[] = [];

beforeAll(async () => {
  broker = await startBroker();
  subscriber = await connectAsync(broker.url, { reconnectPeriod: 0 });
  subscriber.on('message', (topic, payload) => {
    const raw = payload.toString('utf8');
    received.push({ topic, raw, event: JSON.parse(raw) as Record<string, unknown> });
  });
  await subscriber.subscribeAsync('#', { qos: 0 });
});

afterAll(async () => {
  await subscriber?.endAsync(true);
  await broker?.stop();
});

async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}; received: ${received.map((message) => message.raw).join('\n')}`);
}

const on = (topic: string, predicate: (event: Record<string, unknown>) => boolean): Received | undefined =>
  received.find((message) => message.topic === topic && predicate(message.event));

describe(`events from toolport serve, through ${brokerName()}`, () => {
  let http: RunningServer;
  const topic = 'toolport/kitchen-srv/events';

  beforeAll(async () => {
    const config = join(dir.path, 'toolport.yaml');
    await writeFile(
      config,
      [
        'server:',
        '  name: kitchen-srv',
        '  http:',
        '    auth:',
        '      tokens: [{ token: "${CHEF}", principal: chef }]',
        'events:',
        '  mqtt: { url: "${BROKER}", includeArguments: true, includeResults: true, qos: 1 }',
        'limits:',
        '  - { tool: kitchen__simmer, perHour: 1 }',
        // Not about approvals: the kitchen's tools (some write its ledger) run without asking.
        'policy: { unknownSideEffects: allow }',
        'plugins:',
        `  - path: ${kitchen}`,
        `    settings: { ledger: ${JSON.stringify(join(dir.path, 'ledger.txt'))} }`,
        '    grants: { env: [SUPPLIER_KEY] }',
      ].join('\n'),
    );
    http = await startHttpServer(['--config', config], { env: { CHEF: chefToken, BROKER: broker.url, SUPPLIER_KEY: supplierKey } });
  });

  afterAll(async () => {
    await http?.stop();
  });

  it('publishes every event of a session as JSON on the default topic, with secrets redacted', async () => {
    const client = await connectClient('http-2025', { url: http.url, headers: { authorization: `Bearer ${chefToken}` } });
    await client.callTool({ name: 'kitchen__order', arguments: { item: 'ramen', note: `key ${supplierKey} token ${chefToken}` } });
    const recipe = await client.callTool({ name: 'kitchen__recipe', arguments: {} });
    // The client itself gets the plugin's answer as it is; only the event stream is scrubbed.
    expect(JSON.stringify(recipe)).toContain(supplierKey);
    await client.callTool({ name: 'kitchen__chatty', arguments: { text: 'soup' } });
    await client.callTool({ name: 'kitchen__simmer', arguments: { ms: 1 } });
    const limited = await client.callTool({ name: 'kitchen__simmer', arguments: { ms: 1 } });
    expect(limited.isError).toBe(true);
    await (client.transport as StreamableHTTPClientTransport).terminateSession();
    await client.close();

    const start = await waitFor(() => on(topic, (event) => event.event === 'session_start' && event.principal === 'chef'), 'session_start');
    const session = start.event.session;
    expect(start.event).toMatchObject({ server: 'kitchen-srv', transport: 'http', client: 'toolport-test/1.0.0', protocolVersion: expect.any(String) as string });
    await waitFor(() => on(topic, (event) => event.event === 'session_end' && event.session === session), 'session_end');

    const call = await waitFor(() => on(topic, (event) => event.event === 'tool_call' && event.tool === 'kitchen__order'), 'tool_call');
    expect(call.event).toMatchObject({
      server: 'kitchen-srv',
      plugin: 'kitchen',
      principal: 'chef',
      session,
      callId: expect.any(String) as string,
      argsDigest: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      arguments: { item: 'ramen', note: 'key [redacted] token [redacted]' },
    });
    const result = await waitFor(() => on(topic, (event) => event.event === 'tool_result' && event.tool === 'kitchen__recipe'), 'tool_result');
    expect(result.event).toMatchObject({ isError: false, durationMs: expect.any(Number) as number });
    expect(JSON.stringify(result.event.result)).toContain('key [redacted]');
    const chatty = (): Received[] => received.filter((message) => message.event.event === 'message' && message.event.tool === 'kitchen__chatty');
    const messages = await waitFor(() => (chatty().length >= 2 ? chatty() : undefined), 'two message events');
    expect(messages.map((message) => message.event.data)).toEqual(['working on soup', { note: 'supplier key is [redacted]' }]);
    const error = await waitFor(() => on(topic, (event) => event.event === 'tool_error' && event.tool === 'kitchen__simmer'), 'tool_error');
    expect(error.event).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/retry in/) as string });

    // Nothing went anywhere else, and no secret went anywhere at all.
    const ours = received.filter((message) => message.event.server === 'kitchen-srv');
    expect(new Set(ours.map((message) => message.topic))).toEqual(new Set([topic]));
    for (const message of received) {
      expect(message.raw).not.toContain(supplierKey);
      expect(message.raw).not.toContain(chefToken);
    }
    // Events of one call arrive in order.
    const order = ours.filter((message) => message.event.callId === call.event.callId).map((message) => message.event.event);
    expect(order).toEqual(['tool_call', 'tool_result']);
  });
});

describe('events from the library', () => {
  it('a custom topic; arguments and results stay out unless asked for; list_changed', async () => {
    const toolport = await createToolport(
      parseConfig(
        {
          server: { name: 'lib' },
          events: { mqtt: { url: broker.url, topic: 'site/kitchen/toolport' } },
          policy: { unknownSideEffects: 'allow' },
          plugins: [{ path: kitchen, settings: { ledger: join(dir.path, 'ledger-lib.txt') } }],
        },
        { env: {} },
      ),
    );
    try {
      await toolport.call('kitchen__order', { item: 'private dish' }, { context: { principal: 'carol' } });
      toolport.registerTool({ name: 'extra', execute: () => 'ok' });
      const call = await waitFor(() => on('site/kitchen/toolport', (event) => event.event === 'tool_call' && event.principal === 'carol'), 'tool_call');
      expect(call.event).not.toHaveProperty('arguments');
      expect(call.raw).not.toContain('private dish');
      const result = await waitFor(() => on('site/kitchen/toolport', (event) => event.event === 'tool_result' && event.principal === 'carol'), 'tool_result');
      expect(result.event).toMatchObject({ isError: false, contentBlocks: 1 });
      expect(result.event).not.toHaveProperty('result');
      const changed = await waitFor(() => on('site/kitchen/toolport', (event) => event.event === 'list_changed'), 'list_changed');
      expect(changed.event.tools).toContain('host__extra');
    } finally {
      await toolport.close();
    }
  });

  it('pin_changed: a tool whose definition changed since the last start', async () => {
    const manifestPath = join(dir.path, 'pinned-shop.json');
    const manifest = (description: string): string => oneEndpointManifest({ machineName: 'pinned', humanName: 'Pinned' }, { name: 'order', description });
    const config = parseConfig(
      { server: { name: 'pins' }, events: { mqtt: { url: broker.url } }, plugins: [{ path: manifestPath, kind: 'http' }] },
      { env: {} },
    );
    const stateDir = join(dir.path, 'pins-state');
    await writeFile(manifestPath, manifest('Orders one item.'));
    await (await createToolport(config, { stateDir })).close();
    await writeFile(manifestPath, manifest('Orders one item, and ten more.'));
    const toolport = await createToolport(config, { stateDir });
    try {
      const changed = await waitFor(() => on('toolport/pins/events', (event) => event.event === 'pin_changed'), 'pin_changed');
      expect(changed.event).toMatchObject({ server: 'pins', tool: 'pinned__order', plugin: 'pinned', change: 'changed', action: 'quarantine', changed: 'description' });
      expect(changed.event.pinnedDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(changed.event.currentDigest).not.toBe(changed.event.pinnedDigest);
    } finally {
      await toolport.close();
    }
  });

  it('the Node broker the tests use where mosquitto is missing (aedes) carries the events too', async () => {
    const aedes = await startBroker({ use: 'aedes' });
    const listener = await connectAsync(aedes.url, { reconnectPeriod: 0 });
    const seen: Record<string, unknown>[] = [];
    listener.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>));
    await listener.subscribeAsync('toolport/aedes/events');
    const toolport = await createToolport(
      parseConfig({ server: { name: 'aedes' }, events: { mqtt: { url: aedes.url } }, policy: { unknownSideEffects: 'allow' }, plugins: [{ path: kitchen, settings: { ledger: join(dir.path, 'ledger-aedes.txt') } }] }, { env: {} }),
    );
    try {
      expect(aedes.name).toBe('aedes');
      await toolport.call('kitchen__recipe', {});
      const event = await waitFor(() => seen.find((candidate) => candidate.event === 'tool_result'), 'tool_result through aedes');
      expect(event).toMatchObject({ server: 'aedes', tool: 'kitchen__recipe' });
    } finally {
      await toolport.close();
      await listener.endAsync(true);
      await aedes.stop();
    }
  });

  it('the one-shot commands (call, list, check) publish nothing', async () => {
    const config = join(dir.path, 'one-shot.yaml');
    const server = 'one-shot-srv';
    await writeFile(
      config,
      [`server: { name: ${server} }`, `events: { mqtt: { url: "${broker.url}" } }`, 'policy: { unknownSideEffects: allow }', 'plugins:', `  - path: ${kitchen}`, `    settings: { ledger: ${JSON.stringify(join(dir.path, 'ledger-one-shot.txt'))} }`].join('\n'),
    );
    for (const args of [['call', 'kitchen__recipe', '{}'], ['list'], ['check']]) {
      const result = await runToolport([...args, '--config', config]);
      expect(result.code, `${args[0]}: ${result.stderr}`).toBe(0);
    }
    // A command that published would have done so before it exited (it waits for the broker at close).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.filter((message) => message.topic === `toolport/${server}/events`)).toEqual([]);
    // A serve with the same config does publish (so the silence above is the commands', not the broker's).
    const serving = await startHttpServer(['--config', config]);
    try {
      const client = await connectClient('http-2026', { url: serving.url });
      await client.callTool({ name: 'kitchen__recipe', arguments: {} });
      await client.close();
      await waitFor(() => on(`toolport/${server}/events`, (event) => event.event === 'tool_result'), 'the serve\'s tool_result');
    } finally {
      await serving.stop();
    }
  });

  it('a broker that is down slows neither calls nor shutdown', async () => {
    const nowhere = await freePort();
    const toolport = await createToolport(
      parseConfig(
        { events: { mqtt: { url: `mqtt://127.0.0.1:${nowhere}` } }, policy: { unknownSideEffects: 'allow' }, plugins: [{ path: kitchen, settings: { ledger: join(dir.path, 'ledger-down.txt') } }] },
        { env: {} },
      ),
    );
    const started = performance.now();
    for (let call = 0; call < 20; call += 1) await toolport.call('kitchen__recipe', {});
    expect(performance.now() - started).toBeLessThan(1500);
    const closing = performance.now();
    await toolport.close();
    expect(performance.now() - closing).toBeLessThan(4000);
  });
});
