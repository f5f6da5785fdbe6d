"""Generated tables go into README.md between markers, so the README quotes what a command measured."""

import re
from pathlib import Path


def splice(readme: Path, marker: str, block: str) -> None:
    text = readme.read_text()
    pattern = rf"<!-- {marker}:start -->.*?<!-- {marker}:end -->"
    readme.write_text(re.sub(pattern, lambda _: f"<!-- {marker}:start -->\n{block}<!-- {marker}:end -->", text,
                             flags=re.S))
