"""`lotse`: dev | serve <service> | gateway | admin … | health <name> | schema."""

from __future__ import annotations

import argparse
import asyncio
import sys

from services.kernel.settings import get_settings


def _serve(names: list[str], gateway: bool) -> None:
    from lotse.platform import Platform, run_until_signalled
    from services.kernel.clock import clock
    from services.kernel.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    asyncio.run(run_until_signalled(Platform(settings, clock, names, gateway=gateway)))


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


def cmd_health(args: argparse.Namespace) -> None:
    from lotse.admin import healthy

    ok = asyncio.run(healthy(get_settings(), args.name))
    print("ok" if ok else "not ready")
    sys.exit(0 if ok else 1)


def cmd_schema(args: argparse.Namespace) -> None:
    from gateway.export import write_sdl
    from proto.asyncapi import write_asyncapi

    print(write_sdl())
    print(write_asyncapi())


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
    sub.add_parser("schema", help="write gateway/schema.graphql and proto/asyncapi.yaml").set_defaults(func=cmd_schema)

    admin = sub.add_parser("admin", help="operator tasks").add_subparsers(dest="task", required=True)
    create = admin.add_parser("create-admin", help="create an administrator; mails a link to set the password")
    create.add_argument("--email", required=True)
    create.add_argument("--username", required=True)
    create.add_argument("--display-name")
    create.add_argument("--locale", choices=["de", "en"], default="de")
    create.set_defaults(func=cmd_create_admin)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
