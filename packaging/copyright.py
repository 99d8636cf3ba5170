"""Write the Debian package's copyright file: this project plus every library bundled into the executable.

The bundled list is read from the vendored `*.dist-info/METADATA` files, so it always names exactly
what build.sh put into the executable, with the versions and licences those libraries declare.

    python3 packaging/copyright.py BUILD_APP_DIR > copyright
"""

from __future__ import annotations

import sys
from email.parser import HeaderParser
from pathlib import Path

HEADER = """\
orchestrator-cli: a Python reimplementation of orchestrator (openark/orchestrator), drop-in compatible
with its command line.

Copyright: orchestrator-cli contributors
License: Apache-2.0
  On Debian systems the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.

/usr/bin/orchestrator bundles these Python libraries (their pure-Python parts). Their licence files are
in /usr/share/doc/orchestrator/licenses/<name>-<version>/.
"""


def license_of(metadata: dict[str, str]) -> str:
    """The declared licence: License-Expression, else License, else the OSI classifiers."""
    for field in ("License-Expression", "License"):
        value = (metadata.get(field) or "").strip()
        if value and len(value) < 80 and "\n" not in value:
            return value
    return "see the package's own licence file"


def bundled(app_dir: Path) -> list[tuple[str, str, str]]:
    out = []
    for meta_file in sorted(app_dir.glob("*.dist-info/METADATA")):
        message = HeaderParser().parsestr(meta_file.read_text(encoding="utf-8", errors="replace"))
        name, version = message.get("Name", meta_file.parent.name), message.get("Version", "")
        if name.lower() in ("orchestrator-cli", "orchestrator_cli"):
            continue
        classifiers = [
            c.split("::")[-1].strip() for c in message.get_all("Classifier") or [] if c.startswith("License")
        ]
        fields = {k: str(message.get(k) or "") for k in ("License-Expression", "License")}
        text = license_of(fields)
        if text.startswith("see") and classifiers:
            text = ", ".join(classifiers)
        out.append((name, version, text))
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: copyright.py BUILD_APP_DIR", file=sys.stderr)
        return 2
    lines = [HEADER]
    lines += [f"  {name} {version}: {text}" for name, version, text in bundled(Path(argv[0]))]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
