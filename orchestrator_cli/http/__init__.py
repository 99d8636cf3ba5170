"""`orchestrator http`: the service API under /api/ (FastAPI), beside `cli/`; imported only by the service.

Nothing on the CLI's cron path imports this package: fastapi, uvicorn and pydantic load only when the
service starts (`service.py`) or a test builds the app (`app.create_app`).
"""
