"""`lotse`: dev | serve <service> | gateway | admin … | health <name> | schema."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from services.kernel.settings import get_settings


def _serve(names: list[str], gateway: bool) -> None:
    from lotse.platform import GatewayFailed, Platform, run_until_signalled
    from services.kernel.clock import clock
    from services.kernel.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    try:
        asyncio.run(run_until_signalled(Platform(settings, clock, names, gateway=gateway)))
    except GatewayFailed as e:
        raise SystemExit(str(e)) from None


def cmd_dev(args: argparse.Namespace) -> None:
    from lotse import dev

    try:
        asyncio.run(dev.run(get_settings()))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        pass


def cmd_serve(args: argparse.Namespace) -> None:
    _serve([args.service], gateway=False)


def cmd_gateway(args: argparse.Namespace) -> None:
    _serve([], gateway=True)


def cmd_create_admin(args: argparse.Namespace) -> None:
    from lotse.admin import create_admin

    print(asyncio.run(create_admin(get_settings(), args.email, args.username, args.display_name, args.locale)))


def cmd_import_regions(args: argparse.Namespace) -> None:
    from lotse.imports import import_regions

    asyncio.run(import_regions(get_settings(), args.file))


def cmd_import_actors(args: argparse.Namespace) -> None:
    from lotse.imports import import_actors

    ok = asyncio.run(import_actors(get_settings(), args.file, commit=args.commit))
    sys.exit(0 if ok else 1)


def cmd_health(args: argparse.Namespace) -> None:
    from lotse.admin import healthy

    ok = asyncio.run(healthy(get_settings(), args.name))
    print("ok" if ok else "not ready")
    sys.exit(0 if ok else 1)


def cmd_schema(args: argparse.Namespace) -> None:
    from gateway.export import write_sdl
    from lotse.nats_permissions import write_permissions
    from proto.asyncapi import write_asyncapi

    print(write_sdl())
    print(write_asyncapi())
    print(write_permissions())


def parser() -> argparse.ArgumentParser:
    from lotse.platform import SERVICES

    p = argparse.ArgumentParser(prog="lotse", description="Lotse: the platform for migration and integration work")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="embedded nats-server, every service and the gateway").set_defaults(func=cmd_dev)
    serve = sub.add_parser("serve", help="one service in this process (as Compose runs it)")
    serve.add_argument("service", choices=list(SERVICES))
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("gateway", help="the HTTP/GraphQL gateway").set_defaults(func=cmd_gateway)
    health = sub.add_parser("health", help="exit 0 when a service (or 'gateway') is ready")
    health.add_argument("name", choices=[*SERVICES, "gateway"])
    health.set_defaults(func=cmd_health)
    sub.add_parser(
        "schema", help="write gateway/schema.graphql, proto/asyncapi.yaml and deploy/nats/permissions.conf"
    ).set_defaults(func=cmd_schema)

    admin = sub.add_parser("admin", help="operator tasks").add_subparsers(dest="task", required=True)
    create = admin.add_parser("create-admin", help="create an administrator; mails a link to set the password")
    create.add_argument("--email", required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--display-name")
    create.add_argument("--locale", choices=["de", "en"], default="de")
    create.set_defaults(func=cmd_create_admin)
    regions = admin.add_parser("import-regions", help="create or rename regions from a CSV (ags,name,level,parent_ags)")
    regions.add_argument("file", type=Path)
    regions.set_defaults(func=cmd_import_regions)
    actors = admin.add_parser(
        "import-actors", help="check an actors CSV row by row; with --commit, add them approved and unowned",
        description="Columns: name, short_name, kind, description, website, email, phone, street, "
                    "postal_code, city, latitude, longitude, regions, topics, languages (lists separated "
                    "by |; see lotse/actor_csv.py). Exit code 1 when any row has a problem.")
    actors.add_argument("file", type=Path)
    actors.add_argument("--commit", action="store_true", help="write, once every row is fine (default: only check)")
    actors.set_defaults(func=cmd_import_actors)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
