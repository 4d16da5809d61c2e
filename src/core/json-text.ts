// Reading JSON files people write (configs, manifests) with a message that says where the
// text is broken: JSON.parse on Node 20 gives a character offset only for some errors, so
// the first broken character is found with a small scan of the JSON grammar.
import { positionAt, type Position } from './format.js';

/** Offset of the first character where `text` stops being JSON, or -1 when it is JSON. */
function firstError(text: string): number {
  let at = 0;
  const space = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at += 1;
  };
  const literal = (word: string): boolean => {
    if (text.startsWith(word, at)) {
      at += word.length;
      return true;
    }
    return false;
  };
  const string = (): boolean => {
    if (text[at] !== '"') return false;
    at += 1;
    while (at < text.length) {
      const char = text[at]!;
      if (char === '"') {
        at += 1;
        return true;
      }
      if (char < ' ') return false;
      if (char === '\\') {
        const escape = text[at + 1] ?? '';
        if (escape === 'u' ? !/^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6)) : !'"\\/bfnrt'.includes(escape) || escape === '') {
          at += 1;
          return false;
        }
        at += escape === 'u' ? 6 : 2;
      } else at += 1;
    }
    return false;
  };
  const value = (): boolean => {
    space();
    const char = text[at];
    if (char === '{') {
      at += 1;
      space();
      if (text[at] === '}') return (at += 1), true;
      for (;;) {
        space();
        if (!string()) return false;
        space();
        if (text[at] !== ':') return false;
        at += 1;
        if (!value()) return false;
        space();
        if (text[at] === '}') return (at += 1), true;
        if (text[at] !== ',') return false;
        at += 1;
      }
    }
    if (char === '[') {
      at += 1;
      space();
      if (text[at] === ']') return (at += 1), true;
      for (;;) {
        if (!value()) return false;
        space();
        if (text[at] === ']') return (at += 1), true;
        if (text[at] !== ',') return false;
        at += 1;
      }
    }
    if (char === '"') return string();
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at));
    if (number) return (at += number[0].length), true;
    return literal('true') || literal('false') || literal('null');
  };
  if (!value()) return at;
  space();
  return at < text.length ? at : -1;
}

/** The value of a JSON text, or what is wrong with it and where (line and column). */
export function parseJsonText(text: string): { value: unknown } | { error: string; position?: Position } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    // Node's messages either end in "in JSON at position N" or quote the whole text.
    const reason = (error as Error).message.replace(/\s*(?:in|after) JSON at position \d+.*$/s, '').replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '');
    const offset = firstError(text);
    return offset < 0 ? { error: reason } : { error: offset >= text.length ? 'unexpected end of the text' : reason, position: positionAt(text, offset) };
  }
}
