"""Makes the scaffold's modules (every *.py next to main.py) importable by the tests, from this
scaffold's directory: a child scaffold's tests must check the child's own code, not a module of
the same name imported earlier from elsewhere (the seed, or another child)."""

import os
import sys

SEED = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _file in os.listdir(SEED):
    _name = _file[:-3]
    _mod = sys.modules.get(_name) if _file.endswith(".py") else None
    if _mod is not None and os.path.dirname(os.path.abspath(getattr(_mod, "__file__", "") or "")) != SEED:
        del sys.modules[_name]
if SEED not in sys.path:
    sys.path.insert(0, SEED)
