// A toolport module plugin: a manifest that lists the tools, and executeTool that runs
// them. Its tools are served as <manifest.id>__<tool name>, here hello__greet.
export default {
  manifest: {
    id: 'hello',
    version: '0.1.0',
    description: 'Greets people.',
    tools: [
      {
        name: 'greet',
        description: 'Say hello to someone by name.',
        parameters: {
          type: 'object',
          properties: { name: { type: 'string', description: 'Who to greet.' } },
          required: ['name'],
        },
        annotations: { readOnlyHint: true },
      },
    ],
  },

  // args were checked against the tool's parameters before this runs; ctx has the call's
  // signal, progress(), log(), principal and the plugin block's settings.
  async executeTool(name, args, ctx) {
    if (name === 'greet') return `Hello, ${args.name}!`;
    throw new Error(`no tool called ${name}`);
  },
};
