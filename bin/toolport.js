#!/usr/bin/env node
// Entry point of the `toolport` command. The work is in dist/cli/main.js; the build bundles it
// into dist/bundle/ (scripts/bundle-cli.mjs), which starts ~80 ms sooner than the module tree.
// Before the bundle is read, the plugin hosts the last `serve` with this command line noted are
// started, so that they get ready while toolport loads (dist/core/early-hosts.js).
import { startEarlyHosts } from '../dist/core/early-hosts.js';

const argv = process.argv.slice(2);
const earlyHosts = startEarlyHosts(argv);
const { main } = await import('../dist/bundle/main.js');
const code = await main(argv, undefined, process.env, earlyHosts);
// Plugin handles (timers, sockets) must not keep a finished command alive.
process.exitCode = code;
setImmediate(() => process.exit(code));
