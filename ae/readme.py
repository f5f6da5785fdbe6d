"""Generated tables go into README.md between markers, so the README quotes what a command measured."""

import json
import re
from pathlib import Path


def splice(readme: Path, marker: str, block: str) -> None:
    text = readme.read_text()
    pattern = rf"<!-- {marker}:start -->.*?<!-- {marker}:end -->"
    readme.write_text(re.sub(pattern, lambda _: f"<!-- {marker}:start -->\n{block}<!-- {marker}:end -->", text,
                             flags=re.S))


def publish(results: dict, out: Path, readme: Path, marker: str, table: str) -> None:
    """Write `results` as JSON to `out`, put `table` between the README's `marker` lines, and print it."""
    out.write_text(json.dumps(results, indent=2) + "\n")
    if readme.exists():
        splice(readme, marker, table)
    print(table)
