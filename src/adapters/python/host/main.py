"""toolport's Python host, as toolport starts it: checks the Python version (this file is kept
parseable by old Pythons, so that they get a clear message instead of a SyntaxError) and runs the
host's code in _toolport_host.py beside it."""
from __future__ import annotations

import sys

if sys.version_info < (3, 9):
    sys.stderr.write(
        "toolport: the python plugin host needs Python 3.9 or newer, this is %d.%d.%d\n"
        % sys.version_info[:3]
    )
    sys.exit(3)

import os  # noqa: E402

# The host's code is the module beside this file: Python reads a module from bytecode, and a
# started script from source. Found through this folder whatever sys.path holds (-P, -I);
# afterwards the folder is no place a plugin's imports look in (compared as real paths: Python
# puts a script's real folder on sys.path). The module stays registered, so that what plugins
# are given (ctx.settings, say) can be pickled.
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
import _toolport_host  # noqa: E402

sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != HERE]
_toolport_host.main()
