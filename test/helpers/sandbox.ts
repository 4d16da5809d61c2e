// Whether toolport's bubblewrap sandbox can work here (Linux, bwrap installed, namespaces
// allowed), for tests that need it: they skip, saying why, where it cannot.
import { spawnSync } from 'node:child_process';

export const bwrapWorks =
  process.platform === 'linux' &&
  spawnSync('bwrap', ['--unshare-pid', '--unshare-net', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', 'true'], { stdio: 'ignore' })
    .status === 0;

/** Appended to the name of every suite or test that is skipped without it. */
export const needsBwrap = bwrapWorks ? '' : ' [skipped: bubblewrap (bwrap) does not work here; .ci/run installs it]';

/**
 * Config keys for a plugin of a test whose subject is not the sandbox: the sandbox where
 * bubblewrap works; where it does not, `sandbox: off`, so the test runs rather than failing
 * for the wrong reason.
 */
export const sandboxForTests: { sandbox?: 'off' } = bwrapWorks ? {} : { sandbox: 'off' };
