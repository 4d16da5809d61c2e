// A Carter manifest (the http kind) with one endpoint whose description a test changes between
// starts, to see what toolport does when a pinned tool's definition changes. The API behind it
// is never called (127.0.0.1:9), so only the listing and policy are exercised.
export function oneEndpointManifest(plugin: { machineName: string; humanName: string }, endpoint: { name: string; description: string }): string {
  return JSON.stringify({
    manifest_version: '1',
    developer_id: '0123456789abcdef01234567',
    version: '1.0.0',
    name: `toolport-test-${plugin.machineName}`,
    name_for_human: plugin.humanName,
    name_for_machine: plugin.machineName,
    description_for_human: `${plugin.humanName}, for tests.`,
    description_for_machine: `${plugin.humanName} for toolport tests.`,
    author_name: 'toolport tests',
    contact_email: 'tests@example.com',
    api: { base_url: 'http://127.0.0.1:9/api', endpoints: [{ name: endpoint.name, description: endpoint.description, path: `/${endpoint.name}`, input: [], output: [] }] },
  });
}
