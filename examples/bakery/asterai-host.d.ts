// Types of the Asterai host API as componentize-js presents it to TypeScript
// (asterai:host/api@0.1.0; WIT names in camelCase, option<T> as T | undefined).
declare module 'asterai:host/api@0.1.0' {
  export interface Query {
    content: string;
    userId?: string;
  }
  export interface PluginContext {
    query: Query;
    appId: string;
  }
  export interface EmbeddingSimilarityScore {
    score: number;
    payload: [string, string][];
  }
  export function sendResponseToAgent(response: string): void;
  export function getEnv(key: string): string | undefined;
  export function getContext(): PluginContext;
  export function kvGet(key: string, userId: string | undefined): string | undefined;
  export function kvSet(key: string, value: string | undefined, userId: string | undefined): void;
  export function embeddingStore(content: string, collectionName: string): void;
  export function embeddingSearch(query: string, collectionName: string): EmbeddingSimilarityScore[];
  export function queryAgent(args: { query: string; agentId: string; queryKey?: string }): { content: string };
}
