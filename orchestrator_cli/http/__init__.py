"""`orchestrator http`: the service API under /api/ (FastAPI), beside `cli/`; imported only by the service.

Nothing on the CLI's cron path imports this package: fastapi, uvicorn and pydantic load only when the
service starts (`service.py`) or a test builds the app (`app.create_app`).

The Debian package built with `packaging/build.sh --with-service` ships those libraries in
`SERVICE_LIBRARIES` (the one-file executable cannot hold their compiled parts); they are looked up
there after the interpreter's own paths, so a virtualenv's packages still win.
"""

import os
import sys

SERVICE_LIBRARIES = "/usr/lib/orchestrator/service"

if os.path.isdir(SERVICE_LIBRARIES) and SERVICE_LIBRARIES not in sys.path:
    sys.path.append(SERVICE_LIBRARIES)
