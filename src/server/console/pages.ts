// The console's pages, rendered on the server as plain HTML: sign-in, the approvals inbox,
// live calls and plugins & tools. Every value is escaped; arguments are shown with known
// secrets (and values under secret-looking keys) redacted.
import type { Diagnostic, ExposedTool, RegisteredPlugin } from '../../core/registry.js';
import type { SecretSet } from '../../core/redact.js';
import type { Decision } from '../../policy/decide.js';
import type { PendingApprovalView } from '../../policy/inbox.js';
import type { LiveCallEvent } from '../../telemetry/index.js';
import { callOutcomes } from '../../pipeline/record.js';

export type Page = 'approvals' | 'calls' | 'plugins';

export function escapeHtml(value: string | number | undefined): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const secretKey = /pass(word|phrase)?|secret|token|api[-_]?key|authorization|credential|private[-_]?key|cookie/i;

/** The arguments as indented JSON, with known secrets and values under secret-looking keys redacted. */
export function redactedJson(value: unknown, secrets: SecretSet): string {
  const text = JSON.stringify(value, (key, inner: unknown) => (key !== '' && secretKey.test(key) && inner !== null && typeof inner !== 'object' ? '[redacted]' : inner), 2) ?? 'undefined';
  return secrets.redact(text);
}

function layout(title: string, here: Page | undefined, csrf: string | undefined, body: string): string {
  const link = (page: Page, path: string, label: string): string => `<a href="${path}"${here === page ? ' class="here" aria-current="page"' : ''}>${label}</a>`;
  const nav = csrf
    ? `<nav>${link('approvals', '/', 'Approvals')}${link('calls', '/calls', 'Live calls')}${link('plugins', '/plugins', 'Plugins &amp; tools')}</nav>
<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Sign out</button></form>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${csrf ? `<meta name="csrf" content="${escapeHtml(csrf)}">` : ''}
<title>${escapeHtml(title)} · toolport</title><link rel="stylesheet" href="/console.css"></head>
<body><header><strong>toolport</strong>${nav}</header><main>${body}</main><script src="/console.js"></script></body></html>
`;
}

export function signInPage(error?: string): string {
  return layout(
    'Sign in',
    undefined,
    undefined,
    `<div class="card signin"><h1>Sign in to the toolport console</h1>
<p class="meta">Use the admin token (<code>approvals.admin.token</code> in the config).</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/login"><p><input type="password" name="token" autocomplete="current-password" aria-label="Admin token" placeholder="Admin token" size="36" autofocus required></p>
<p><button type="submit">Sign in</button></p></form></div>`,
  );
}

function secondsLeft(expiresAt: string): number {
  return Math.max(0, Math.round((Date.parse(expiresAt) - Date.now()) / 1000));
}

export function approvalsPage(pending: readonly PendingApprovalView[], csrf: string, secrets: SecretSet, notice?: string): string {
  const ids = pending.map((view) => view.id).sort().join(',');
  const cards = pending.map((view) => {
    const action = (verb: string): string => `/approvals/${escapeHtml(view.id)}/${verb}`;
    const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
    return `<section class="card approval" data-id="${escapeHtml(view.id)}">
<h2>${escapeHtml(view.tool)} <span class="meta">(${escapeHtml(view.id)})</span></h2>
<p class="meta">plugin <b>${escapeHtml(view.plugin)}</b> (${escapeHtml(view.kind)}) · principal <b>${escapeHtml(view.principal)}</b>${view.client ? ` · client <b>${escapeHtml(view.client)}</b>` : ''}${view.session ? ` · session <b>${escapeHtml(view.session)}</b>` : ''}</p>
<p class="meta">asked by <b>${escapeHtml(view.because)}</b>${view.permissions.length > 0 ? ` · permissions <b>${escapeHtml(view.permissions.join(', '))}</b>` : ''} · <span data-expires="${escapeHtml(view.expiresAt)}">expires in ${secondsLeft(view.expiresAt)} s</span></p>
<pre class="args">${escapeHtml(redactedJson(view.arguments, secrets))}</pre>
<form method="post" action="${action('approve')}" class="inline">${hidden}<input type="hidden" name="scope" value="once"><button type="submit" class="approve">Approve once</button></form>
${view.session ? `<form method="post" action="${action('approve')}" class="inline">${hidden}<input type="hidden" name="scope" value="session"><button type="submit" class="approve">Approve for this session</button></form>` : ''}
<form method="post" action="${action('reject')}" class="inline">${hidden}<input type="text" name="reason" placeholder="Reason (told to the model)" aria-label="Reason"><button type="submit" class="reject">Reject</button></form>
</section>`;
  });
  return layout(
    'Approvals',
    'approvals',
    csrf,
    `<h1>Approvals</h1>${notice ? `<p class="meta" role="status">${escapeHtml(notice)}</p>` : ''}
<div data-pending="${escapeHtml(ids)}">${cards.length > 0 ? cards.join('\n') : '<p class="empty">No call is waiting for approval.</p>'}</div>`,
  );
}

const outcomes = ['running', ...callOutcomes];

export function callsPage(csrf: string): string {
  return layout(
    'Live calls',
    'calls',
    csrf,
    `<h1>Live calls</h1>
<div class="filters"><input type="text" id="f-tool" placeholder="tool" aria-label="Filter by tool"><input type="text" id="f-plugin" placeholder="plugin" aria-label="Filter by plugin">
<select id="f-outcome" aria-label="Filter by outcome"><option value="">any outcome</option>${outcomes.map((o) => `<option>${o}</option>`).join('')}</select></div>
<table id="calls"><thead><tr><th>time</th><th>tool</th><th>plugin</th><th>principal</th><th>decision</th><th>outcome</th><th>duration</th></tr></thead><tbody></tbody></table>
<div id="detail" class="card" hidden><h2>Audit record</h2><pre></pre></div>`,
  );
}

/** What the plugins page shows about one tool for one principal. */
export interface ToolDecisions {
  readonly tool: ExposedTool;
  readonly decisions: readonly { principal: string; decision: Decision }[];
  /** Declared permissions the config does not grant (calls are refused until it does). */
  readonly missingGrants: readonly string[];
}

function sandboxOf(plugin: RegisteredPlugin, diagnostics: readonly Diagnostic[]): string {
  const said = diagnostics.find((d) => d.pluginId === plugin.id && /sandbox/i.test(d.message));
  if (said) return said.message;
  const kind = plugin.plugin.kind;
  if (kind === 'wasm') return 'WebAssembly component: only the host functions its grants allow';
  if (kind === 'http') return 'remote service: reached over HTTP only';
  return 'in the toolport process (no sandbox)';
}

/** The plugin's grants in the config's words, e.g. `network; files: /data (ro); env: API_KEY`. */
function grantsOf(plugin: RegisteredPlugin): string {
  const { network, files, env, permissions } = plugin.grants;
  const parts = [
    ...(network ? ['network'] : []),
    ...(Object.keys(files).length > 0 ? [`files: ${Object.entries(files).map(([path, mode]) => `${path} (${mode})`).join(', ')}`] : []),
    ...(env.length > 0 ? [`env: ${env.join(', ')}`] : []),
    ...(permissions.length > 0 ? [`permissions: ${permissions.join(', ')}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : 'none';
}

export function pluginsPage(plugins: readonly RegisteredPlugin[], tools: readonly ToolDecisions[], diagnostics: readonly Diagnostic[], csrf: string): string {
  const pluginCards = plugins.map((plugin) => {
    const own = diagnostics.filter((d) => d.pluginId === plugin.id);
    const ownTools = tools.filter((entry) => entry.tool.plugin.id === plugin.id);
    return `<section class="card plugin" data-plugin="${escapeHtml(plugin.id)}">
<h2>${escapeHtml(plugin.id)} <span class="meta">${escapeHtml(plugin.plugin.kind)}${plugin.plugin.version ? ` ${escapeHtml(plugin.plugin.version)}` : ''}</span></h2>
<p class="meta">source <b>${escapeHtml(plugin.source)}</b> · config <b>${escapeHtml(plugin.configPath)}</b></p>
<p class="meta">grants <b>${escapeHtml(grantsOf(plugin))}</b></p>
<p class="meta">sandbox <b class="sandbox">${escapeHtml(sandboxOf(plugin, diagnostics))}</b></p>
${own.length > 0 ? `<ul class="diagnostics">${own.map((d) => `<li class="${d.level === 'error' ? 'error' : 'meta'}">${escapeHtml(d.level)}: ${escapeHtml(d.message)}</li>`).join('')}</ul>` : ''}
<table><thead><tr><th>tool</th><th>annotations</th><th>policy (no arguments)</th><th>schema</th></tr></thead><tbody>
${ownTools
  .map(
    ({ tool, decisions, missingGrants }) => `<tr class="tool" data-tool="${escapeHtml(tool.name)}"><td><b>${escapeHtml(tool.name)}</b><br><span class="meta">${escapeHtml((tool.definition.description ?? '').split('\n')[0])}</span></td>
<td class="meta">${escapeHtml(tool.mcpTool.annotations ? JSON.stringify(tool.mcpTool.annotations) : '–')}</td>
<td>${missingGrants.length > 0 ? `<div class="error">refused for everyone: not granted ${escapeHtml(missingGrants.join(', '))}</div>` : ''}${decisions.map(({ principal, decision }) => `<div><span class="meta">${escapeHtml(principal)}:</span> <span class="decision-${escapeHtml(decision.action)}">${escapeHtml(decision.action)}</span> <span class="meta">(${escapeHtml(decision.because)})</span></div>`).join('')}</td>
<td><details><summary>input schema</summary><pre>${escapeHtml(JSON.stringify(tool.mcpTool.inputSchema, null, 2))}</pre></details></td></tr>`,
  )
  .join('\n')}
</tbody></table></section>`;
  });
  const general = diagnostics.filter((d) => d.pluginId === undefined && d.level !== 'info');
  return layout(
    'Plugins & tools',
    'plugins',
    csrf,
    `<h1>Plugins &amp; tools</h1>
${general.length > 0 ? `<div class="card"><h2>Diagnostics</h2><ul>${general.map((d) => `<li>${escapeHtml(d.level)}: ${escapeHtml(d.message)}</li>`).join('')}</ul></div>` : ''}
${pluginCards.length > 0 ? pluginCards.join('\n') : '<p class="empty">No plugin is loaded.</p>'}`,
  );
}

/** One live-call event as an SSE message. */
export function sseMessage(event: LiveCallEvent): string {
  return `event: call\ndata: ${JSON.stringify(event)}\n\n`;
}
