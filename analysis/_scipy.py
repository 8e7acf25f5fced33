"""scipy's modules, imported when first used: `import scipy.stats` takes 1–2 s of CPU, which
every process that imported the app paid (respondent servers, the command line, each test
server) though most of them never compute a statistic."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _Lazy:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


stats: Any = _Lazy("scipy.stats")
special: Any = _Lazy("scipy.special")
optimize: Any = _Lazy("scipy.optimize")
