// Tool search for large catalogs: a full-text index (MiniSearch, BM25-style scoring) over
// tool names, titles, descriptions and parameter names and descriptions, built once per
// catalog version (the registry's tool array) and shared by every session and principal.
// What a caller may see is decided per result, never baked into the index. The search tool's
// own description is written from the catalog: which plugins, how many tools, of what kinds.
import MiniSearch from 'minisearch';
import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import type { ExposedTool } from '../core/registry.js';

export const searchToolName = 'search_tools';
export const defaultSearchLimit = 5;
export const maxSearchLimit = 50;

const stopWords = new Set(
  'a an and any are as at be by can could do does for from get got give have how i in into is it its let me my of on or our please should so some that the their them then there these this those to up us want was we what when where which who will with would you your'.split(' '),
);
// Keep `get`: as a verb it says little, but dropping it would drop whole tool names.
stopWords.delete('get');

/** Words that mean the same to someone looking for a tool: each maps to the first of its group. */
const synonymGroups = [
  ['delete', 'remove', 'erase', 'drop', 'discard', 'destroy', 'purge', 'wipe', 'trash', 'unlink'],
  ['create', 'add', 'make', 'new', 'insert', 'register', 'compose', 'setup', 'submit', 'build', 'book', 'save', 'start', 'begin', 'launch', 'generate', 'produce'],
  ['list', 'enumerate', 'browse', 'every', 'all', 'overview'],
  ['get', 'fetch', 'retrieve', 'read', 'show', 'view', 'see', 'display', 'look', 'inspect', 'detail', 'details', 'info', 'information'],
  ['update', 'change', 'edit', 'modify', 'alter', 'adjust', 'amend', 'revise', 'tweak', 'correct', 'rename'],
  ['search', 'find', 'query', 'locate', 'seek', 'hunt', 'lookup'],
  ['send', 'deliver', 'dispatch', 'transmit'],
  ['cancel', 'abort', 'halt', 'revoke', 'withdraw', 'terminate'],
  ['picture', 'image', 'photo', 'snapshot', 'pic'],
  ['price', 'cost', 'fee', 'tariff'],
  ['summary', 'summarize', 'digest', 'recap'],
];
const canonical = new Map<string, string>();
for (const group of synonymGroups) for (const word of group) if (!word.includes(' ') && !canonical.has(word)) canonical.set(word, group[0] as string);

/** A light suffix stripper: plurals and the commonest verb endings. */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith('es') && /(ch|sh|x|ss|z)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Words of a text: camelCase and snake_case split, lower case. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

export function processTerm(term: string): string | null {
  if (stopWords.has(term)) return null;
  const stemmed = stem(term);
  // "removed" → "remov" → "remove": a stripped ending may have taken an e with it.
  return canonical.get(term) ?? canonical.get(stemmed) ?? canonical.get(`${stemmed}e`) ?? stemmed;
}

interface IndexedTool {
  id: number;
  name: string;
  title: string;
  description: string;
  params: string;
}

/** What the search tool's description says about one plugin. */
interface PluginSummary {
  readonly id: string;
  readonly about: string | undefined;
  /** The words that recur in its tools' names (what its tools are about). */
  readonly topics: readonly string[];
}

export interface CatalogIndex {
  /** The best matches first, only tools `visible` accepts. */
  search(query: string, limit: number, visible: (tool: ExposedTool) => boolean): ExposedTool[];
  /** The search tool's description for a caller who sees these tools. */
  describe(visible: readonly ExposedTool[], listed: number): string;
  /** How long the index took to build, in ms. */
  readonly buildMs: number;
}

/** Terms (after processTerm) that name what a tool does rather than what it is about. */
const operationTerms = new Set(['create', 'update', 'delete', 'list', 'get', 'search', 'send', 'cancel']);
const questionWords = new Set(['what', 'which', 'how', 'who', 'whose', 'when', 'where', 'why', 'is', 'are', 'was', 'were', 'do', 'does', 'did', 'can', 'could', 'any', 'has', 'have']);

const genericNameWords = new Set(['get', 'list', 'create', 'update', 'delete', 'search', 'set', 'add', 'remove', 'by', 'id', 'all', 'new', 'for', 'of', 'to', 'the', 'a']);

function paramsText(tool: ExposedTool): string {
  const properties = (tool.mcpTool.inputSchema as { properties?: Record<string, { description?: unknown; title?: unknown }> }).properties ?? {};
  return Object.entries(properties)
    .map(([name, schema]) => [name, typeof schema?.title === 'string' ? schema.title : '', typeof schema?.description === 'string' ? schema.description : ''].join(' '))
    .join(' ');
}

export function buildCatalogIndex(tools: readonly ExposedTool[]): CatalogIndex {
  const started = performance.now();
  const index = new MiniSearch<IndexedTool>({
    fields: ['name', 'title', 'description', 'params'],
    storeFields: [],
    tokenize,
    processTerm,
  });
  index.addAll(
    tools.map((tool, id) => ({
      id,
      // The tool's own name matters, not the plugin prefix every one of its tools shares.
      name: `${tool.definition.name} ${tool.plugin.id}`,
      title: tool.definition.title ?? '',
      description: tool.definition.description ?? '',
      params: paramsText(tool),
    })),
  );

  const readOnly = tools.map((tool) => tool.sideEffects === 'none');
  const summaries = new Map<string, PluginSummary>();
  const byPlugin = new Map<string, ExposedTool[]>();
  for (const tool of tools) byPlugin.set(tool.plugin.id, [...(byPlugin.get(tool.plugin.id) ?? []), tool]);
  for (const [id, group] of byPlugin) {
    const counts = new Map<string, number>();
    for (const tool of group) {
      for (const word of new Set(tokenize(tool.definition.name).map(stem))) {
        if (genericNameWords.has(word) || word.length < 3 || /^\d+$/.test(word)) continue;
        counts.set(word, (counts.get(word) ?? 0) + 1);
      }
    }
    const topics = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([word]) => word);
    const about = group[0]?.plugin.plugin.description?.split('\n')[0]?.slice(0, 120);
    summaries.set(id, { id, about, topics });
  }
  const buildMs = performance.now() - started;

  return {
    buildMs,
    search(query, limit, visible) {
      // A question that names no operation ("which lots expire soon?") asks to read:
      // read-only tools go first among otherwise equal matches.
      const words = tokenize(query);
      const question = questionWords.has(words[0] ?? '') && !words.map(processTerm).some((term) => term !== null && operationTerms.has(term));
      const results = index.search(query, {
        ...(question && { boostDocument: (id: unknown) => (readOnly[id as number] ? 1.5 : 1) }),
        boost: { name: 3, title: 2, description: 1, params: 0.7 },
        prefix: (term) => term.length > 3,
        fuzzy: (term) => (term.length > 6 ? 0.15 : false),
        combineWith: 'OR',
      });
      // Visibility is checked in rank order, only until enough are found.
      const found: ExposedTool[] = [];
      for (const result of results) {
        const tool = tools[result.id as number] as ExposedTool;
        if (!visible(tool)) continue;
        found.push(tool);
        if (found.length === limit) break;
      }
      return found;
    },
    describe(visible, listed) {
      const counts = new Map<string, number>();
      for (const tool of visible) counts.set(tool.plugin.id, (counts.get(tool.plugin.id) ?? 0) + 1);
      const lines = [...counts].map(([id, count]) => {
        const summary = summaries.get(id);
        const parts = [summary?.about, summary && summary.topics.length > 0 ? `tools about ${summary.topics.join(', ')}` : undefined].filter(Boolean);
        return `- ${id} (${count} tool${count === 1 ? '' : 's'})${parts.length > 0 ? `: ${parts.join('; ')}` : ''}`;
      });
      return [
        `Finds tools of this server by what they do. ${visible.length} tools are available to you${listed > 0 ? `, and only ${listed} of them are listed` : ' and none of them is listed'}: search before concluding a tool does not exist.`,
        'Plugins behind this search:',
        ...lines,
        'Give a few words about the task (e.g. "cancel a shipment"); each result is a full tool definition (name, description, input schema) that you can call by its name right away.',
      ].join('\n');
    },
  };
}

/** One index per catalog version: the registry makes a new tool array whenever the catalog changes. */
export function createCatalogIndexCache(): (tools: readonly ExposedTool[]) => CatalogIndex {
  const cache = new WeakMap<readonly ExposedTool[], CatalogIndex>();
  return (tools) => {
    let index = cache.get(tools);
    if (!index) {
      index = buildCatalogIndex(tools);
      cache.set(tools, index);
    }
    return index;
  };
}

/** The search tool as tools/list shows it. */
export function searchToolDefinition(description: string): Tool {
  return {
    name: searchToolName,
    title: 'Search tools',
    description,
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, description: 'What you want to do, in a few words.' },
        limit: { type: 'integer', minimum: 1, maximum: maxSearchLimit, default: defaultSearchLimit, description: 'How many tools to return at most.' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  };
}

/** Checks the search tool's arguments; a message for the model when they are wrong. */
export function parseSearchArguments(args: unknown): { query: string; limit: number } | { error: string } {
  const { query, limit } = (typeof args === 'object' && args !== null ? args : {}) as { query?: unknown; limit?: unknown };
  if (typeof query !== 'string' || query.trim() === '') return { error: `${searchToolName}: "query" must be a non-empty string saying what you want to do` };
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxSearchLimit)) {
    return { error: `${searchToolName}: "limit" must be a whole number from 1 to ${maxSearchLimit}` };
  }
  return { query, limit: (limit) ?? defaultSearchLimit };
}

export function searchResult(found: readonly ExposedTool[]): CallToolResult {
  const tools = found.map((tool) => tool.mcpTool);
  return {
    content: [{ type: 'text', text: JSON.stringify({ tools }) }],
    structuredContent: { tools },
  };
}
