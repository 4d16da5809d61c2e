#!/usr/bin/env node
// Entry point of the `toolport` command; the work is in dist/cli/main.js.
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
// Plugin handles (timers, sockets) must not keep a finished command alive.
process.exitCode = code;
setImmediate(() => process.exit(code));
