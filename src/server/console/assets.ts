// The console's stylesheet and script, served from the admin listener itself (/console.css,
// /console.js): no CDN, nothing fetched from elsewhere, so it works offline on loopback.

export const consoleCss = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6473; --bg: #f6f7f9; --card: #fff; --line: #d8dce3; --accent: #2456c9; --ok: #1f7a3a; --bad: #b42318; --warn: #9a6700; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa4b2; --bg: #12151b; --card: #1b2029; --line: #2e3542; --accent: #7aa2ff; --ok: #5bc27a; --bad: #ff7b72; --warn: #e3b341; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: var(--card); border-bottom: 1px solid var(--line); }
header strong { font-size: 15px; }
header nav { display: flex; gap: 1rem; flex: 1; }
header a { color: var(--muted); text-decoration: none; }
header a.here { color: var(--fg); font-weight: 600; }
main { padding: 1rem 1.2rem; max-width: 1200px; }
h1 { font-size: 18px; margin: .2rem 0 1rem; }
h2 { font-size: 15px; margin: 0 0 .4rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: .8rem; }
.meta { color: var(--muted); font-size: 13px; }
.meta b { color: var(--fg); font-weight: 600; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; overflow: auto; max-height: 22rem; font-size: 12.5px; }
form.inline { display: inline-flex; gap: .4rem; align-items: center; margin: .2rem .6rem .2rem 0; }
button { font: inherit; padding: .3rem .8rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button.approve { border-color: var(--ok); color: var(--ok); }
button.reject { border-color: var(--bad); color: var(--bad); }
input[type=text], input[type=password], select { font: inherit; padding: .3rem .5rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12.5px; }
tr.call { cursor: pointer; }
tr.call:hover { background: var(--bg); }
.outcome-ok, .decision-allow { color: var(--ok); }
.outcome-error, .outcome-failed, .outcome-denied, .outcome-rejected, .outcome-timeout, .outcome-rate_limited, .decision-deny { color: var(--bad); }
.outcome-running, .decision-ask { color: var(--warn); }
.filters { display: flex; gap: .6rem; margin-bottom: .7rem; }
.signin { max-width: 26rem; margin: 4rem auto; }
.error { color: var(--bad); }
.empty { color: var(--muted); font-style: italic; }
details summary { cursor: pointer; color: var(--accent); }
`;

/** Countdowns on the approvals page, its refresh, and the live calls view (SSE, filters, details). */
export const consoleJs = `
'use strict';
(function () {
  const csrf = document.querySelector('meta[name=csrf]')?.content;
  // Countdowns: "expires in N s", updated each second.
  function tick() {
    for (const el of document.querySelectorAll('[data-expires]')) {
      const left = Math.max(0, Math.round((Date.parse(el.dataset.expires) - Date.now()) / 1000));
      el.textContent = left > 0 ? 'expires in ' + left + ' s' : 'expired';
    }
  }
  tick();
  setInterval(tick, 1000);

  // The approvals page reloads when the pending set changes (a new call, one decided elsewhere).
  const inbox = document.querySelector('[data-pending]');
  if (inbox) {
    setInterval(async () => {
      try {
        const response = await fetch('/approvals', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
        if (!response.ok) return;
        const ids = (await response.json()).pending.map((p) => p.id).sort().join(',');
        if (ids !== inbox.dataset.pending) location.reload();
      } catch {}
    }, 1500);
  }

  const table = document.querySelector('#calls tbody');
  if (!table) return;
  const rows = new Map();
  const filters = { tool: document.querySelector('#f-tool'), plugin: document.querySelector('#f-plugin'), outcome: document.querySelector('#f-outcome') };
  const detail = document.querySelector('#detail');
  function visible(row) {
    const d = row.dataset;
    const text = (input) => (input?.value ?? '').trim().toLowerCase();
    if (text(filters.tool) && !(d.tool ?? '').toLowerCase().includes(text(filters.tool))) return false;
    if (text(filters.plugin) && !(d.plugin ?? '').toLowerCase().includes(text(filters.plugin))) return false;
    if (filters.outcome?.value && d.outcome !== filters.outcome.value) return false;
    return true;
  }
  function applyFilters() { for (const row of rows.values()) row.hidden = !visible(row); }
  for (const input of Object.values(filters)) input?.addEventListener('input', applyFilters);
  function cell(row, index, text, className) {
    const td = row.children[index];
    td.textContent = text ?? '';
    if (className !== undefined) td.className = className;
  }
  function show(event) {
    let row = rows.get(event.key);
    if (!row) {
      row = document.createElement('tr');
      row.className = 'call';
      row.dataset.key = event.key;
      for (let i = 0; i < 7; i += 1) row.appendChild(document.createElement('td'));
      row.addEventListener('click', () => openRecord(event.key));
      table.prepend(row);
      rows.set(event.key, row);
      while (rows.size > 500) { const [id, old] = rows.entries().next().value; old.remove(); rows.delete(id); }
    }
    row.dataset.tool = event.tool;
    row.dataset.plugin = event.plugin ?? '';
    row.dataset.outcome = event.type === 'end' ? event.outcome : 'running';
    cell(row, 0, new Date(event.time).toLocaleTimeString());
    cell(row, 1, event.tool);
    cell(row, 2, event.plugin ?? row.children[2].textContent);
    cell(row, 3, event.principal);
    if (event.decision) cell(row, 4, event.decision, 'decision-' + event.decision);
    cell(row, 5, row.dataset.outcome, 'outcome-' + row.dataset.outcome);
    cell(row, 6, event.durationMs === undefined ? '' : event.durationMs + ' ms');
    row.hidden = !visible(row);
  }
  async function openRecord(key) {
    const response = await fetch('/calls/' + encodeURIComponent(key), { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    detail.hidden = false;
    detail.querySelector('pre').textContent = response.ok ? JSON.stringify(await response.json(), null, 2) : 'no record (the call is still running, or too old)';
  }
  const source = new EventSource('/calls/events');
  source.addEventListener('call', (message) => show(JSON.parse(message.data)));
  void csrf;
})();
`;
