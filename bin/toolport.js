#!/usr/bin/env node
// Entry point of the `toolport` command. The work is in dist/cli/main.js; the build bundles it
// into dist/bundle/ (scripts/bundle-cli.mjs), which starts ~80 ms sooner than the module tree.
import { main } from '../dist/bundle/main.js';

const code = await main(process.argv.slice(2));
// Plugin handles (timers, sockets) must not keep a finished command alive.
process.exitCode = code;
setImmediate(() => process.exit(code));
