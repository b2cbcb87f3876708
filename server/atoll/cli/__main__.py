import os
import sys

# `python -m atoll.cli` puts the current folder first on sys.path; when that folder is
# a workspace holding e.g. `multiprocessing/`, it would replace the standard library's.
# atoll never imports from the folder it is run in.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from atoll.cli.main import main

main()
