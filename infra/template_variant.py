"""Write a copy of template.yaml whose parameters default to other values, for scanners that only read defaults.

checkov evaluates CloudFormation conditions with the parameters' defaults and takes no parameter values, so
the resources behind CreateDatabase=true (and other switches) are only scanned in such a copy. The copy is
textual (comments, tags and checkov skips stay as they are); only `Default:` lines of the named parameters
change.

    python -m infra.template_variant template.yaml OUT.yaml CreateDatabase=true EnableSnapStart=true
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def with_defaults(text: str, values: dict[str, str]) -> str:
    """`text` with each named parameter's Default replaced; a parameter without a Default line is an error."""
    for name, value in values.items():
        block = re.compile(rf"(^  {re.escape(name)}:\n(?:^    .*\n)*?^    Default: ).*$", re.MULTILINE)
        replacement = value.replace("\\", "\\\\")
        text, count = block.subn(rf'\g<1>"{replacement}"', text, count=1)
        if count != 1:
            raise SystemExit(f"parameter {name} has no Default line in the template")
    return text


def main(argv: list[str]) -> None:
    source, target, *pairs = argv
    values = dict(pair.split("=", 1) for pair in pairs)
    Path(target).write_text(with_defaults(Path(source).read_text(encoding="utf-8"), values), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
