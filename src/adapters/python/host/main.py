"""toolport's Python host, as toolport starts it: checks the Python version (this file is kept
parseable by old Pythons, so that they get a clear message instead of a SyntaxError) and runs the
host's code in toolport_host.py beside it."""
from __future__ import annotations

import sys

if sys.version_info < (3, 9):
    sys.stderr.write(
        "toolport: the python plugin host needs Python 3.9 or newer, this is %d.%d.%d\n"
        % sys.version_info[:3]
    )
    sys.exit(3)

# The host's code is the module beside this file (this folder is sys.path[0] here).
from toolport_host import main  # noqa: E402

main()
