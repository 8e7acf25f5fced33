"""Known vulnerabilities in the installed dependencies, said honestly.

pip-audit asks an advisory source (PyPI's JSON API, or OSV) about every installed package.
Where that source cannot be reached (an offline machine, a private package mirror), it
skips each package, yet still prints "No known vulnerabilities found". This script reads
pip-audit's JSON instead and says how many packages were really checked:
  exit 1  a package has a known vulnerability;
  exit 0  otherwise, with a line that says whether anything could be checked at all.

    .venv/bin/python .ci/audit.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    if not pip_audit.exists():
        print("audit: pip-audit is not installed (pip install -e '.[dev]'): nothing checked")
        return 0
    run = subprocess.run(
        [str(pip_audit), "--format", "json", "--skip-editable", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        reason = (run.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"audit: pip-audit could not run ({reason}): nothing checked")
        return 0
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    checked = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in checked if d.get("vulns")]
    for dep in vulnerable:
        ids = ", ".join(v["id"] for v in dep["vulns"])
        print(f"audit: {dep['name']} {dep['version']}: {ids}")
    if vulnerable:
        return 1
    if not checked:
        first = skipped[0]["skip_reason"] if skipped else "none"
        print(
            f"audit: NOT CHECKED: no advisory source could be reached for any of the "
            f"{len(dependencies)} packages (first reason: {first}). This is no result, not a "
            "clean one; run it where PyPI's JSON API or OSV is reachable."
        )
        return 0
    print(
        f"audit: {len(checked)} packages checked, none with a known vulnerability"
        + (f"; {len(skipped)} could not be checked" if skipped else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
