// The event stream out: every hook event published as one JSON message to an MQTT broker
// (`events.mqtt`), the way EvoClaw edge agents report on `.../events`. Known secrets are
// scrubbed from every message; arguments and results are sent only when configured.
// Publishing never blocks or fails a call: while the broker is away, a bounded buffer waits.
import { z } from 'zod';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from '../core/logger.js';
import type { SecretSet } from '../core/redact.js';
import type { HookBus, HookEvent } from './hooks.js';

export const eventsSchema = z.strictObject({
  mqtt: z
    .strictObject({
      url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^/]/i, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
      /** Default: toolport/<server.name>/events. */
      topic: z
        .string()
        .min(1)
        .refine((topic) => !/[#+]/.test(topic), 'must not contain the wildcards # or +')
        .optional(),
      clientId: z.string().min(1).max(64).optional(),
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      qos: z.union([z.literal(0), z.literal(1)]).default(0),
      /** Put argument values in tool_call events (secrets are still scrubbed). */
      includeArguments: z.boolean().default(false),
      /** Put result content in tool_result events (secrets are still scrubbed). */
      includeResults: z.boolean().default(false),
    })
    .optional(),
});

export type EventsConfig = z.output<typeof eventsSchema>;
export type MqttEventsConfig = NonNullable<EventsConfig['mqtt']>;

export interface EventStream {
  /** Messages waiting for the broker right now. */
  readonly pending: number;
  /** Sends what is buffered (waiting at most `timeoutMs`), then disconnects. Idempotent. */
  close(timeoutMs?: number): Promise<void>;
}

export interface EventStreamOptions {
  bus: HookBus;
  secrets: SecretSet;
  logger: Logger;
  serverName: string;
}

const maxBuffered = 1000;

export function defaultEventTopic(serverName: string): string {
  return `toolport/${serverName}/events`;
}

/** The JSON body of one event: `{ event, time, server, ... }`, with arguments and results only when asked. */
export function toWireEvent(event: HookEvent, server: string, config: Pick<MqttEventsConfig, 'includeArguments' | 'includeResults'>): Record<string, unknown> {
  const { type, ...fields } = event;
  const base = { event: type, server };
  switch (event.type) {
    case 'tool_call': {
      const { arguments: args, ...rest } = fields as Omit<typeof event, 'type'>;
      return { ...base, ...rest, ...(config.includeArguments && { arguments: args }) };
    }
    case 'tool_result': {
      const { result, ...rest } = fields as Omit<typeof event, 'type'>;
      return {
        ...base,
        ...rest,
        isError: result.isError === true,
        contentBlocks: result.content.length,
        ...(config.includeResults && { result }),
      };
    }
    default:
      return { ...base, ...fields };
  }
}

/** Connects to the broker and publishes every event of the bus until closed. */
export async function createMqttEventStream(config: MqttEventsConfig, options: EventStreamOptions): Promise<EventStream> {
  const { secrets, logger } = options;
  const { connect } = await import('mqtt');
  const url = new URL(config.url);
  // Credentials in the URL are secrets like the password key; the log shows only where.
  secrets.add(config.password, url.password ? decodeURIComponent(url.password) : undefined);
  const where = `${url.protocol}//${url.host}`;
  const topic = config.topic ?? defaultEventTopic(options.serverName);

  const clientOptions: IClientOptions = {
    clientId: config.clientId ?? `toolport-${options.serverName}-${process.pid}`.slice(0, 64),
    reconnectPeriod: 1000,
    connectTimeout: 5000,
    // Our own bounded buffer holds messages while offline; the client's is unbounded.
    queueQoSZero: false,
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
  };
  const client: MqttClient = connect(config.url, clientOptions);
  const buffer: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let dropped = 0;
  let connectedOnce = false;
  let closing: Promise<void> | undefined;

  const send = (payload: string): void => {
    const sent = new Promise<void>((resolve) => {
      client.publish(topic, payload, { qos: config.qos }, (error) => {
        if (error) logger.debug({ err: error }, 'event not published');
        resolve();
      });
    });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  };

  const flush = (): void => {
    while (buffer.length > 0 && client.connected) send(buffer.shift() as string);
  };

  client.on('connect', () => {
    logger[connectedOnce ? 'info' : 'debug']({ broker: where, topic }, connectedOnce ? 'event broker reconnected' : 'event broker connected');
    connectedOnce = true;
    complained = false;
    if (dropped > 0) logger.warn({ dropped }, 'events were dropped while the broker was unreachable');
    dropped = 0;
    flush();
  });
  // The client retries every second; say so once per outage, not once per attempt.
  let complained = false;
  client.on('error', (error) => {
    logger[complained ? 'debug' : 'warn']({ broker: where, err: secrets.redact(error.message) }, 'event broker unreachable; retrying');
    complained = true;
  });
  client.on('offline', () => logger.debug({ broker: where }, 'event broker offline'));

  const untap = options.bus.tap((event) => {
    if (closing) return;
    let payload: string;
    try {
      payload = secrets.redact(JSON.stringify(toWireEvent(event, options.serverName, config)));
    } catch (error) {
      logger.warn({ err: error, event: event.type }, 'event could not be serialised');
      return;
    }
    if (client.connected && buffer.length === 0) {
      send(payload);
      return;
    }
    buffer.push(payload);
    if (buffer.length > maxBuffered) {
      buffer.shift();
      dropped += 1;
    }
  });

  logger.info({ broker: where, topic }, 'publishing events');
  return {
    get pending() {
      return buffer.length + inFlight.size;
    },
    close(timeoutMs = 2000) {
      closing ??= (async () => {
        untap();
        const deadline = AbortSignal.timeout(timeoutMs);
        const until = (ready: () => boolean): Promise<void> =>
          new Promise((resolve) => {
            const poll = (): void => {
              if (ready() || deadline.aborted) resolve();
              else setTimeout(poll, 20);
            };
            poll();
          });
        await options.bus.drain();
        // Give a broker that is (re)connecting a moment to take what is buffered.
        await until(() => buffer.length === 0);
        await Promise.race([Promise.all(inFlight), until(() => false)]);
        if (buffer.length > 0) logger.warn({ dropped: buffer.length }, 'events not published: the broker was unreachable at shutdown');
        buffer.length = 0;
        await client.endAsync(!client.connected).catch(() => {});
      })();
      return closing;
    },
  };
}
