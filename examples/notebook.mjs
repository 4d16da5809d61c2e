// An example toolport module plugin: a small notebook kept in memory.
// It shows the plugin shape: a manifest with JSON Schema parameters, executeTool,
// structured output with an output schema, progress reports and cancellation.

const notes = [];

export default {
  manifest: {
    id: 'notebook',
    name: 'Notebook',
    version: '1.0.0',
    description: 'Keeps short notes for the current server run and answers questions about them.',
    tools: [
      {
        name: 'add_note',
        description: 'Store a short note. Returns the id of the new note.',
        parameters: {
          type: 'object',
          properties: {
            text: { type: 'string', minLength: 1, maxLength: 2000, description: 'The note itself.' },
            tags: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9-]+$' }, maxItems: 8, description: 'Lowercase tags.' },
          },
          required: ['text'],
          additionalProperties: false,
        },
        outputSchema: {
          type: 'object',
          properties: { id: { type: 'integer' }, count: { type: 'integer' } },
          required: ['id', 'count'],
        },
        sideEffects: true,
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      },
      {
        name: 'find_notes',
        description: 'Find notes whose text contains a phrase (case-insensitive), optionally with a tag.',
        parameters: {
          type: 'object',
          properties: {
            phrase: { type: 'string', description: 'Text to look for; empty matches every note.' },
            tag: { type: 'string' },
          },
          required: ['phrase'],
          additionalProperties: false,
        },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      {
        name: 'text_stats',
        description: 'Count the characters, words and sentences of a text.',
        parameters: {
          type: 'object',
          properties: { text: { type: 'string' } },
          required: ['text'],
          additionalProperties: false,
        },
        outputSchema: {
          type: 'object',
          properties: {
            characters: { type: 'integer' },
            words: { type: 'integer' },
            sentences: { type: 'integer' },
          },
          required: ['characters', 'words', 'sentences'],
        },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      {
        name: 'review_notes',
        description: 'Read every note slowly, reporting progress, and summarise the tags in use. Can be cancelled.',
        parameters: {
          type: 'object',
          properties: { delayMs: { type: 'integer', minimum: 0, maximum: 2000, default: 100, description: 'Pause per note.' } },
          additionalProperties: false,
        },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
    ],
  },

  async executeTool(name, args, ctx) {
    switch (name) {
      case 'add_note': {
        const note = { id: notes.length + 1, text: args.text, tags: args.tags ?? [], at: new Date().toISOString() };
        notes.push(note);
        return {
          content: [{ type: 'text', text: `Saved note ${note.id}.` }],
          structuredContent: { id: note.id, count: notes.length },
        };
      }
      case 'find_notes': {
        const phrase = args.phrase.toLowerCase();
        const found = notes.filter(
          (note) => note.text.toLowerCase().includes(phrase) && (args.tag === undefined || note.tags.includes(args.tag)),
        );
        if (found.length === 0) return `No note matches "${args.phrase}".`;
        return found.map((note) => `#${note.id} ${note.text}${note.tags.length ? ` [${note.tags.join(', ')}]` : ''}`).join('\n');
      }
      case 'text_stats': {
        const text = args.text;
        const words = text.split(/\s+/).filter(Boolean).length;
        const sentences = text.split(/[.!?]+/).filter((part) => part.trim().length > 0).length;
        return { characters: [...text].length, words, sentences };
      }
      case 'review_notes': {
        const delay = args.delayMs ?? 100;
        const tags = new Map();
        for (const [index, note] of notes.entries()) {
          await new Promise((resolve, reject) => {
            const timer = setTimeout(resolve, delay);
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(new Error('review cancelled'));
            }, { once: true });
          });
          for (const tag of note.tags) tags.set(tag, (tags.get(tag) ?? 0) + 1);
          ctx.progress(index + 1, notes.length, `read note ${note.id}`);
        }
        if (notes.length === 0) return 'There are no notes yet.';
        const summary = [...tags].map(([tag, count]) => `${tag} (${count})`).join(', ');
        return `Reviewed ${notes.length} notes. Tags: ${summary || 'none'}.`;
      }
      default:
        throw new Error(`unknown tool ${name}`);
    }
  },
};
