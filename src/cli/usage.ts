// The command line's help: one overview, and one page per command with the options that
// command takes (and only those are accepted by it).

export const commands = ['serve', 'list', 'call', 'check', 'policy', 'approvals', 'pins', 'init', 'schema'] as const;
export type Command = (typeof commands)[number];

/** Every option, with the commands that take it (`*`: all). */
export const optionSpecs = {
  config: { type: 'string', short: 'c', for: ['serve', 'list', 'call', 'check', 'policy', 'approvals', 'pins'] },
  stdio: { type: 'boolean', for: ['serve'] },
  http: { type: 'boolean', for: ['serve'] },
  port: { type: 'string', for: ['serve'] },
  host: { type: 'string', for: ['serve'] },
  json: { type: 'boolean', for: ['list', 'call', 'policy', 'approvals', 'pins'] },
  plugin: { type: 'string', for: ['pins'] },
  approve: { type: 'boolean', for: ['call'] },
  principal: { type: 'string', for: ['policy'] },
  url: { type: 'string', for: ['approvals'] },
  session: { type: 'boolean', for: ['approvals'] },
  reason: { type: 'string', for: ['approvals'] },
  kind: { type: 'string', for: ['init'] },
  force: { type: 'boolean', for: ['init'] },
  'log-level': { type: 'string', for: ['serve', 'list', 'call', 'check', 'policy', 'pins'] },
  help: { type: 'boolean', short: 'h', for: '*' },
  version: { type: 'boolean', short: 'V', for: '*' },
  // -v for version too, as node and npm have it.
  v: { type: 'boolean', short: 'v', for: '*' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; short?: string; for: readonly Command[] | '*' }>;

const lines = {
  config: '  -c, --config FILE     config file, YAML or JSON (env TOOLPORT_CONFIG; default ./toolport.yaml)',
  logLevel: '      --log-level L     fatal, error, warn, info, debug, trace or silent (env TOOLPORT_LOG_LEVEL)',
  json: '      --json            machine-readable output',
  help: '  -h, --help            this help',
};

const pathNote = `PATH is a plugin file or folder; its kind is detected (.wasm, .py or a folder with
__init__.py, a folder with agent.toml, a Carter .json manifest, a .js/.mjs/.ts module; any
other folder is read one level deep). Without PATH or --config, ./toolport.yaml (or .yml,
.json) is used.`;

export const commandHelp: Record<Command, string> = {
  serve: `Usage: toolport serve [PATH...] [--config FILE] [--stdio | --http [--port N] [--host H]]

Serves the plugins' tools to MCP clients: over stdin/stdout (the default; for clients
that start toolport themselves) or over HTTP (Streamable HTTP at /mcp, legacy SSE at /sse).
Logs go to stderr. Stops on Ctrl+C, SIGTERM or, on stdio, when the client closes stdin.

${pathNote}

Options:
${lines.config}
      --stdio           serve over stdin/stdout (the default)
      --http            serve over HTTP
      --port N          HTTP port; 0 takes a free one (implies --http; env TOOLPORT_PORT;
                        default server.http.port, 8808)
      --host H          HTTP bind address (implies --http; env TOOLPORT_HOST; default
                        server.http.host, 127.0.0.1)
${lines.logLevel}
${lines.help}
`,
  list: `Usage: toolport list [PATH...] [--config FILE] [--json]

Lists the tools as a client would see them, and the problems found. Exits 1, like check,
when there is an error (a plugin that could not be loaded, a tool disabled by a collision).

${pathNote}

Options:
${lines.config}
${lines.json} (tools as MCP describes them, and the problems found)
${lines.logLevel}
${lines.help}
`,
  call: `Usage: toolport call TOOL [JSON_ARGS] [PATH...] [--config FILE] [--json] [--approve]

Runs one call through the policy and prints the result on stdout. Exits 1 when the result
is an error.

  toolport call notebook__add_note '{"text":"buy milk"}' examples/notebook.mjs

Options:
${lines.config}
${lines.json} (the whole CallToolResult)
      --approve         approve the call yourself if the policy asks for approval
${lines.logLevel}
${lines.help}
`,
  check: `Usage: toolport check [PATH...] [--config FILE]

Validates the config and loads every plugin: prints each problem, and info lines saying
how plugins run. Exits 1 when a plugin could not be loaded, 2 when the config is invalid.

Options:
${lines.config}
${lines.logLevel}
${lines.help}
`,
  policy: `Usage: toolport policy explain TOOL [JSON_ARGS] [PATH...] [--config FILE] [--principal P] [--json]

Prints what the policy decides for a call (allow, ask or deny) and the rule, or default,
that decided it, without running it.

Options:
${lines.config}
      --principal P     decide as this principal (default: local)
${lines.json}
${lines.logLevel}
${lines.help}
`,
  approvals: `Usage: toolport approvals list [--json]
       toolport approvals approve ID [--session]
       toolport approvals reject ID [--reason TEXT]

Decides calls waiting in the approval inbox of a running \`toolport serve\` (its admin
endpoint, approvals.admin in the config; the token may also come from TOOLPORT_ADMIN_TOKEN).

Options:
${lines.config}
      --url URL         the admin endpoint (default: from approvals.admin in the config)
      --session         approve: also approve this exact call for the rest of its session
      --reason TEXT     reject: the reason the model is told
${lines.json}
${lines.help}
`,
  pins: `Usage: toolport pins list [PATH...] [--json]
       toolport pins diff TOOL [PATH...]
       toolport pins approve TOOL [PATH...]
       toolport pins approve --plugin ID [PATH...]

Tool-definition pins (kept in the state folder): each tool's definition is pinned the
first time its plugin is seen; a definition that changed since, or a new tool of a pinned
plugin, is held back as pins.onChange / pins.onNewTool say (default: quarantined). Loads
the config's plugins, like list, to see their definitions now.

  list      every pinned plugin and tool, and which ones differ from their pins
  diff      the pinned definition against the one seen now (description and schemas)
  approve   accept the definition seen now as the tool's pin (or every changed and new
            tool of the plugin with --plugin); a running server applies it at once

Options:
${lines.config}
      --plugin ID       approve: every changed or new tool of this plugin
${lines.json}
${lines.logLevel}
${lines.help}
`,
  init: `Usage: toolport init [DIR] [--kind module|python|command|http|wasm] [--force]

Writes a commented toolport.yaml (with the config's JSON Schema beside it, for editors) and
a small plugin of the kind you pick (default: module) into DIR (default: the current
folder), then prints how to check it, call it and connect a client.

Options:
      --kind KIND       module (JS), python (ScaiWave), command (EvoClaw skill), http (Carter
                        manifest and its API) or wasm (Asterai component)
      --force           overwrite files that are already there
${lines.help}
`,
  schema: `Usage: toolport schema

Prints the JSON Schema of the config file (draft 7), for editors and other tools. The same
file ships in the package as dist/config/toolport.schema.json. In a YAML file:

  # yaml-language-server: $schema=./toolport.schema.json

Options:
${lines.help}
`,
};

export const overview = `toolport: serve plugins written for other agent platforms as MCP tools

Usage:
  toolport serve [PATH...] [--config FILE] [--stdio | --http [--port N] [--host H]]
  toolport list  [PATH...] [--config FILE] [--json]
  toolport call  TOOL [JSON_ARGS] [PATH...] [--config FILE] [--json] [--approve]
  toolport check [PATH...] [--config FILE]
  toolport policy explain TOOL [JSON_ARGS] [PATH...] [--config FILE] [--principal P]
  toolport approvals list | approve ID [--session] | reject ID [--reason TEXT]
  toolport pins list | diff TOOL | approve TOOL | approve --plugin ID
  toolport init [DIR] [--kind module|python|command|http|wasm] [--force]
  toolport schema

${pathNote}

Run \`toolport COMMAND --help\` for a command's options. Everywhere:
  -h, --help            help
  -V, --version         print the version

Environment: TOOLPORT_CONFIG (as --config), TOOLPORT_PORT and TOOLPORT_HOST (the HTTP
listener, when serving over HTTP), TOOLPORT_LOG_LEVEL (as --log-level), TOOLPORT_LOG_FORMAT
(json or pretty; default pretty on a terminal, else json).

Exit codes: 0 ok; 1 a check or call failed; 2 bad usage or an invalid config.
`;
