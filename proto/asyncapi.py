"""Generating `proto/asyncapi.yaml` from the models: the wire protocol as a document.

Run `lotse schema` (or `make schema`) after changing a contract; a test fails while the
checked-in file differs from what this produces.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from proto import subjects
from proto.common import Endpoint
from proto.envelope import Envelope, Event
from proto.errors import ErrorBody
from proto.mail import OutgoingMail

PATH = Path(__file__).with_name("asyncapi.yaml")
CONTRACTS = ("identity", "directory", "news", "notifications")


def _contracts() -> dict[str, dict[str, Endpoint[Any, Any]]]:
    found = {}
    for name in CONTRACTS:
        try:
            module = importlib.import_module(f"proto.{name}")
        except ModuleNotFoundError:
            continue
        found[name] = module.ENDPOINTS
    return found


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    _schema(ErrorBody, schemas)
    for service, endpoints in sorted(_contracts().items()):
        for verb, spec in endpoints.items():
            key = f"{service}.{verb}"
            request_name, reply_name = f"{key}.request", f"{key}.reply"
            messages[request_name] = {"name": spec.request.__name__, "payload": _schema(spec.request, schemas)}
            messages[reply_name] = {"name": spec.reply.__name__, "payload": _schema(spec.reply, schemas)}
            channels[key] = {
                "address": subjects.endpoint(service, verb),
                "description": spec.summary,
                "messages": {
                    "request": {"$ref": f"#/components/messages/{request_name}"},
                    "reply": {"$ref": f"#/components/messages/{reply_name}"},
                },
            }
            operations[key] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": spec.summary,
                "reply": {"channel": {"$ref": f"#/channels/{key}"},
                          "messages": [{"$ref": f"#/channels/{key}/messages/reply"}]},
            }
        channels[f"{service}.events"] = {
            "address": subjects.aggregate_subject(service, "{aggregate}", "{id}"),
            "description": f"{service}'s event stream ({subjects.stream_name(service)}); envelope with typed data",
            "parameters": {"aggregate": {}, "id": {}},
            "messages": {},
        }
    _schema(Envelope, schemas)
    for type_name, event in sorted(Event.registry.items()):
        service = type_name.split(".", 1)[0]
        if f"{service}.events" not in channels:
            continue
        messages[type_name] = {
            "name": type_name,
            "summary": (event.__doc__ or "").strip().splitlines()[0] if event.__doc__ else type_name,
            "payload": _schema(event, schemas),
        }
        channels[f"{service}.events"]["messages"][type_name] = {"$ref": f"#/components/messages/{type_name}"}
    messages["mail.outbox"] = {"name": "OutgoingMail", "payload": _schema(OutgoingMail, schemas)}
    channels["mail.outbox"] = {
        "address": subjects.MAIL_OUTBOX,
        "description": "work queue (stream MAIL): rendered mail for the mailer, deleted on ack",
        "messages": {"mail": {"$ref": "#/components/messages/mail.outbox"}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Lotse wire protocol",
            "version": "0.1.0",
            "description": "NATS request/reply endpoints (<service>.<verb>), event streams and the mail queue. "
                           "Errors answer with the micro error headers and an ErrorBody. Generated from proto/.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=120)


def write_asyncapi() -> str:
    PATH.write_text(render(), encoding="utf-8")
    return str(PATH)
