// Calls a tool through toolport's one door and expects a CallToolResult: none of these
// tests offers the input_required round trip, so anything else is a failure of the test.
import { isInputRequiredResult, type CallToolResult } from '@modelcontextprotocol/server';
import type { ToolCallOptions, Toolport } from '../../src/toolport.js';

export async function callTool(toolport: Toolport, name: string, args: unknown = {}, options: ToolCallOptions = {}): Promise<CallToolResult> {
  const answer = await toolport.callTool(name, args, options);
  if (isInputRequiredResult(answer)) throw new Error(`${name} answered input_required, which this test does not expect`);
  return answer;
}
