"""Endpoint factories for routes that run one changing CLI command and answer its subject.

Each factory returns a plain function whose signature FastAPI reads (path parameters by the
original's names); the function runs the registered command through `invoke.run` (the CLI's own
implementation, audit rows included) and shapes what it returns: the changed instance, its key, or
the list of instances it moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends
from fastapi.responses import JSONResponse

from orchestrator_cli.commands.output import Output
from orchestrator_cli.http import shapes
from orchestrator_cli.http.invoke import Service, instance_text, rows_for_keys, run, service_of
from orchestrator_cli.http.routing import instance_details, ok
from orchestrator_cli.model.keys import InstanceKey, parse_printed

SVC = Depends(service_of)
Endpoint = Callable[..., JSONResponse]


def subject_key(out: Output, fallback: str) -> InstanceKey:
    """The instance a command acted on: its result's `Key`, else its first printed key, else `-i`."""
    if isinstance(out.data, dict) and out.data.get("Key"):
        return parse_printed(str(out.data["Key"]))
    for text in out.lines[:1]:
        try:
            return parse_printed(text.split("<", 1)[0].strip())
        except ValueError:
            break
    return InstanceKey.parse(fallback)


def message(command: str, out: Output) -> str:
    shown = " ".join(out.lines[:3])
    return f"{command}: {shown}" if shown else f"{command}: done"


def answer_instance(svc: Service, command: str, text: str, **options: Any) -> JSONResponse:
    out = run(svc, command, instance=text, **options)
    return instance_details(svc, subject_key(out, text), message(command, out))


def answer_key(svc: Service, command: str, text: str, **options: Any) -> JSONResponse:
    out = run(svc, command, instance=text, **options)
    return ok(message(command, out), shapes.key_json(subject_key(out, text)))


def answer_moved(svc: Service, command: str, text: str, **options: Any) -> JSONResponse:
    """Bulk moves: Details are the moved replicas as instances; failures are named in the Message."""
    out = run(svc, command, instance=text, **options)
    moved = [m["Key"] if isinstance(m, dict) else str(m) for m in (out.data or {}).get("Moved", [])]
    failed = (out.data or {}).get("Failed", {}) if isinstance(out.data, dict) else {}
    text_failed = "; ".join(f"{k}: {why}" for k, why in failed.items())
    note = f"{command}: moved {len(moved)} replicas" + (f"; failed: {text_failed}" if text_failed else "")
    return ok(note, shapes.instances_json(rows_for_keys(svc, moved), svc.reasonable_lag))


def on_instance(command: str, answer: Callable[..., JSONResponse] = answer_instance, **fixed: Any) -> Endpoint:
    """`/<command>/{hostname}/{port}`."""

    def endpoint(hostname: str, port: str, svc: Service = SVC) -> JSONResponse:
        return answer(svc, command, instance_text(hostname, port), **fixed)

    endpoint.__name__ = command.replace("-", "_")
    return endpoint


def on_instance_and_destination(
    command: str, answer: Callable[..., JSONResponse] = answer_instance, **fixed: Any
) -> Endpoint:
    """`/<command>/{hostname}/{port}/{belowHost}/{belowPort}`."""

    def endpoint(hostname: str, port: str, belowHost: str, belowPort: str, svc: Service = SVC) -> JSONResponse:  # noqa: N803
        return answer(
            svc, command, instance_text(hostname, port), destination=instance_text(belowHost, belowPort), **fixed
        )

    endpoint.__name__ = command.replace("-", "_") + "_below"
    return endpoint
