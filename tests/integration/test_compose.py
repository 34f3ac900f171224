"""compose.yaml, run without a Docker engine: each Lotse container becomes a local process.

The file is parsed and interpolated as Compose would (`${VAR}`, `${VAR:?…}`, `${VAR:-…}`);
nats-server runs deploy/nats/single.conf with its permissions; every Lotse service of the
file runs its own `command` with its own environment, the Compose host names mapped to
loopback:

    nats:4222        → 127.0.0.1:<free port> (same user and password in the URL)
    nats :8222       → 127.0.0.1:<free port> (monitoring, the nats health check)
    mailpit:1025     → 127.0.0.1:<free port> (an aiosmtpd server that keeps what it gets)
    gateway 0.0.0.0:8000 → 127.0.0.1:<free port>
    gateway 0.0.0.0:9464 → 127.0.0.1:<free port> (metrics: exposed, never published)
    /data            → a temporary directory per service

So this checks what a `docker compose up` depends on beyond the image: the commands exist,
the environment is complete, each health check passes, the NATS permissions let every
process do its work (and keep the gateway from what only the operator may do), and every
process stops cleanly on SIGTERM, as `docker compose stop` sends it.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import nats
import pytest
import yaml
from gql.transport.exceptions import TransportQueryError

from gateway.health import READY_SERVICES
from lotse.nats_permissions import USERS, password_variable
from lotse.platform import SERVICES
from services.kernel.connection import inbox_prefix
from services.kernel.settings import Settings
from tests.e2e.flows import CONFIRM, RESET, SIGN_IN, SIGN_OUT_EVERYWHERE, STRONG, USER_ERRORS, VIEWER, register
from tests.support.gateway import post_form
from tests.support.graphql import GraphQL
from tests.support.nats_server import free_port, nats_server_binary, wait_for_port
from tests.support.smtp import SmtpServer, token_in

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
NATS_CONFIG = ROOT / "deploy" / "nats"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
LOTSE = Path(sys.executable).parent / "lotse"

SIDECARS = {"nats", "mailpit"}  # official images, not Lotse processes
EXPORT_MY_DATA = f"mutation {{ exportMyData {{ ok {USER_ERRORS} }} }}"
DELETE_ACCOUNT = f"mutation($password: String!) {{ deleteAccount(password: $password) {{ ok {USER_ERRORS} }} }}"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0  # compose.yaml's stop_grace_period


# --- Compose's interpolation ----------------------------------------------------------------

class MissingVariable(Exception):
    pass


VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, env: dict[str, str]) -> str:
    """`$$`, `$VAR`, `${VAR}`, `${VAR-d}`, `${VAR:-d}`, `${VAR?e}`, `${VAR:?e}` as Compose reads them."""

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        value = env.get(name)
        op, arg = match["op"], match["arg"] or ""
        missing = value is None or (op is not None and op.startswith(":") and value == "")
        if op in ("-", ":-"):
            return arg if missing else value  # type: ignore[return-value]
        if op in ("?", ":?"):
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return value  # type: ignore[return-value]
        return value or ""

    return VARIABLE.sub(one, text)


def resolved(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolved(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolved(value, env) for key, value in node.items()}
    return node


def load_compose(env: dict[str, str]) -> dict:
    return resolved(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")), env)


def lotse_services(compose: dict) -> dict[str, dict]:
    """The long-running Lotse processes: not the sidecars, not on-demand tools (profiles)."""
    return {name: spec for name, spec in compose["services"].items()
            if name not in SIDECARS and not spec.get("profiles")}


def the_env() -> dict[str, str]:
    """What an operator's `.env` holds: a fresh secret for everything compose requires."""
    env = {password_variable(user): secrets.token_hex(16) for user in USERS}
    env["LOTSE_SECRET_KEY"] = secrets.token_hex(32)
    env["LOTSE_SESSION_KEY"] = secrets.token_hex(32)
    return env


# --- The file itself ------------------------------------------------------------------------

def test_compose_runs_every_service_and_the_gateway():
    compose = load_compose(the_env())
    commands = {name: spec["command"] for name, spec in lotse_services(compose).items()}
    served = {command[1] for command in commands.values() if command[0] == "serve"}
    assert served == set(SERVICES), "compose.yaml must run exactly the services `lotse serve` knows"
    assert ["gateway"] in commands.values()
    assert set(READY_SERVICES) <= served, "the gateway's /readyz waits for services compose does not run"
    for name, spec in lotse_services(compose).items():
        assert spec["healthcheck"]["test"][:3] == ["CMD", "lotse", "health"], name
        assert spec["restart"] == "unless-stopped", name
        assert spec["depends_on"]["nats"]["condition"] == "service_healthy", name


def test_compose_refuses_to_start_without_its_secrets():
    for missing in ["LOTSE_SECRET_KEY", "LOTSE_SESSION_KEY", *(password_variable(user) for user in USERS)]:
        env = the_env()
        del env[missing]
        with pytest.raises(MissingVariable, match=missing):
            load_compose(env)
        env[missing] = ""  # an empty line in .env counts as missing too
        with pytest.raises(MissingVariable, match=missing):
            load_compose(env)


def test_each_process_connects_as_its_own_nats_user():
    env = the_env()
    compose = load_compose(env)
    expected = {"gateway": "gateway", "admin": "operator", **{s: s for s in SERVICES}}
    for name, user in expected.items():
        url = urlsplit(compose["services"][name]["environment"]["LOTSE_NATS_URL"])
        assert (url.username, url.password, url.hostname) == (user, env[password_variable(user)], "nats"), name
    # nats-server gets every password; no Lotse process gets another user's, nor the secret key
    # unless it is identity.
    nats_env = compose["services"]["nats"]["environment"]
    assert {password_variable(user) for user in USERS} == set(nats_env)
    for name, spec in compose["services"].items():
        if name == "nats" or "environment" not in spec:
            continue
        values = " ".join(str(v) for v in spec["environment"].values())
        others = [u for u in USERS if u != expected.get(name) and env[password_variable(u)] in values]
        assert not others, f"{name} holds the NATS password of {others}"
        assert ("LOTSE_SECRET_KEY" in spec["environment"]) == (name == "identity"), name
        # The web client's cookie key: the gateway's alone.
        assert ("LOTSE_SESSION_KEY" in spec["environment"]) == (name == "gateway"), name


def test_env_example_names_every_setting():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    names = {f"LOTSE_{field.upper()}" for field in Settings.model_fields}
    names |= {password_variable(user) for user in USERS}
    missing = sorted(name for name in names if not re.search(rf"^#? ?{name}=", text, re.M))
    assert not missing, f"deploy/env.example lacks {missing}"


# --- Running it -----------------------------------------------------------------------------

class Process:
    """One container of compose.yaml as a local process, ended by its pid."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError(f"{self.name} ignored SIGTERM:\n{self.output()}") from None
        return self.proc.returncode

    def kill(self) -> None:
        """After a failure: make sure nothing outlives the test."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def base_environment() -> dict[str, str]:
    """The test runner's environment without any LOTSE_*: a container sees only compose's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LOTSE_")}


def local(command: list[str]) -> list[str]:
    """The image's `lotse` is this venv's."""
    return [str(LOTSE) if part == "lotse" else part for part in command]


def argv(spec: dict) -> list[str]:
    """What a container runs: entrypoint (the image's is `lotse`) + command."""
    return local([*(spec.get("entrypoint") or ["lotse"]), *spec.get("command", [])])


def healthcheck(spec: dict) -> list[str]:
    """A `["CMD", …]` health check runs as it is, without the entrypoint."""
    test = spec["healthcheck"]["test"]
    assert test[0] == "CMD", test
    return local(test[1:])


class Loopback:
    """Compose's host names and container paths → this machine."""

    def __init__(self, tmp: Path, nats_port: int, smtp_port: int, http_port: int, metrics_port: int):
        self.tmp, self.nats_port, self.smtp_port, self.http_port = tmp, nats_port, smtp_port, http_port
        self.metrics_port = metrics_port

    def environment(self, name: str, spec: dict) -> dict[str, str]:
        env = {key: str(value) for key, value in spec.get("environment", {}).items()}
        if "LOTSE_NATS_URL" in env:
            url = env["LOTSE_NATS_URL"]
            assert url.endswith("@nats:4222"), url
            env["LOTSE_NATS_URL"] = url.removesuffix("nats:4222") + f"127.0.0.1:{self.nats_port}"
        if env.get("LOTSE_SMTP_HOST") == "mailpit":
            assert env["LOTSE_SMTP_PORT"] == "1025"
            env["LOTSE_SMTP_HOST"], env["LOTSE_SMTP_PORT"] = "127.0.0.1", str(self.smtp_port)
        if "LOTSE_HTTP_HOST" in env:
            assert (env["LOTSE_HTTP_HOST"], env["LOTSE_HTTP_PORT"]) == ("0.0.0.0", "8000")
            assert "8000:8000" in spec["ports"]
            env["LOTSE_HTTP_HOST"], env["LOTSE_HTTP_PORT"] = "127.0.0.1", str(self.http_port)
        if "LOTSE_METRICS_HOST" in env:
            assert (env["LOTSE_METRICS_HOST"], env["LOTSE_METRICS_PORT"]) == ("0.0.0.0", "9464")
            assert [str(port) for port in spec["expose"]] == ["9464"], "the metrics port is for the network only"
            assert not any("9464" in str(port) for port in spec.get("ports", [])), "never publish metrics"
            env["LOTSE_METRICS_HOST"], env["LOTSE_METRICS_PORT"] = "127.0.0.1", str(self.metrics_port)
        assert env.get("LOTSE_DATA_DIR") == "/data", name
        env["LOTSE_DATA_DIR"] = str(self.tmp / name)
        return {**base_environment(), **env}


def nats_config(tmp: Path, client_port: int, monitor_port: int) -> Path:
    """deploy/nats/single.conf with its listen addresses and store moved to this machine.
    (nats-server refuses `-sd` beside a config's `store_dir`, so the file is adapted.)"""
    target = tmp / "nats-config"
    target.mkdir()
    for conf in NATS_CONFIG.glob("*.conf"):
        (target / conf.name).write_text(conf.read_text(encoding="utf-8"), encoding="utf-8")
    single = (target / "single.conf").read_text(encoding="utf-8")
    for line, local in [
        ("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{client_port}"),
        ("http: 0.0.0.0:8222", f"http: 127.0.0.1:{monitor_port}"),
        ("store_dir: /data", f'store_dir: "{tmp / "nats-data"}"'),
    ]:
        assert line in single, f"single.conf no longer has `{line}`: adapt this test"
        single = single.replace(line, local)
    (target / "single.conf").write_text(single, encoding="utf-8")
    return target / "single.conf"


async def run(command: list[str], env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True,
                                   timeout=timeout)


async def wait_until_healthy(check: list[str], env: dict[str, str], processes: list[Process]) -> None:
    deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
    while True:
        for process in processes:
            if process.exited():
                raise AssertionError(f"{process.name} exited with {process.proc.returncode}:\n{process.output()}")
        result = await run(check, env)
        if result.returncode == 0:
            return
        if asyncio.get_running_loop().time() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.output()}" for p in processes)
            raise AssertionError(f"{check} not healthy after {READY_TIMEOUT}s: {result.stdout}\n{logs}")
        await asyncio.sleep(0.5)


VIOLATION = re.compile(r'"\$G/user:(?P<user>[\w-]+)" - (?P<kind>\w+) Violation - Subject "(?P<subject>[^"]+)"')


def unexpected_violations(log: str) -> list[str]:
    """Every permission refusal in nats-server's log but one by design: a service that reads
    another's stream may try to create it before its owner has, is refused, and waits for
    the owner (services/directory/reactions.py)."""
    unexpected = []
    for line in log.splitlines():
        if "Violation" not in line:
            continue
        match = VIOLATION.search(line)
        if match and match["kind"] == "Publish":
            created = re.fullmatch(r"\$JS\.API\.STREAM\.CREATE\.([A-Z]+)", match["subject"])
            if created and created[1].lower() in SERVICES and created[1].lower() != match["user"]:
                continue
        unexpected.append(line)
    return unexpected


async def refused_within(api: GraphQL, document: str, timeout: float) -> bool:
    """Whether the gateway answers `document` with UNAUTHENTICATED "session ended" within `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            await api(document)
        except TransportQueryError as e:
            return e.errors[0]["extensions"]["code"] == "UNAUTHENTICATED" and "ended" in e.errors[0]["message"]
        await asyncio.sleep(0.1)
    return False


async def violations(url: str, act) -> list[str]:
    """Connect as the URL's user, do `act(nc)`, return the permission errors the server sent."""
    errors: list[str] = []

    async def collect(e: Exception) -> None:
        errors.append(str(e).lower())  # nats-py lowercases the server's -ERR anyway

    nc = await nats.connect(url, inbox_prefix=inbox_prefix(url), error_cb=collect, connect_timeout=5,
                            allow_reconnect=False)
    try:
        await act(nc)
        await nc.flush()
        await asyncio.sleep(0.3)  # the -ERR follows the offending message
    finally:
        await nc.close()
    return errors


@pytest.mark.slow
async def test_compose_services_run_as_local_processes(tmp_path):
    env = the_env()
    compose = load_compose(env)
    nats_port, monitor_port = free_port(), free_port()
    smtp = SmtpServer()
    smtp.start()
    loopback = Loopback(tmp_path, nats_port, smtp.port, free_port(), free_port())

    nats_env = {**base_environment(), **{k: str(v) for k, v in compose["services"]["nats"]["environment"].items()}}
    server = Process("nats", [nats_server_binary(), "-c", str(nats_config(tmp_path, nats_port, monitor_port))],
                     nats_env, tmp_path / "nats.log")
    processes: list[Process] = []
    try:
        server.start()
        await asyncio.to_thread(wait_for_port, nats_port)

        # nats' own health check, against the monitoring port.
        probe = compose["services"]["nats"]["healthcheck"]["test"]
        health_url = urlsplit(probe[-1])
        assert (health_url.hostname, health_url.port) == ("127.0.0.1", 8222)
        async with httpx.AsyncClient(timeout=5) as http:
            local = f"http://127.0.0.1:{monitor_port}{health_url.path}?{health_url.query}"
            assert (await http.get(local)).status_code == 200

        envs = {}
        for name, spec in lotse_services(compose).items():
            envs[name] = loopback.environment(name, spec)
            processes.append(Process(name, argv(spec), envs[name], tmp_path / f"{name}.log"))
        for process in processes:
            process.start()

        # Every container's own health check passes, retried as Compose retries it (the
        # gateway's /readyz waits only for the services its schema calls).
        for process in processes:
            await wait_until_healthy(healthcheck(compose["services"][process.name]), envs[process.name], processes)

        # The gateway's metrics answer on the metrics port, not on the published one.
        async with httpx.AsyncClient(timeout=5) as http:
            scraped = await http.get(f"http://127.0.0.1:{loopback.metrics_port}/metrics")
            public = await http.get(f"http://127.0.0.1:{loopback.http_port}/metrics")
        assert scraped.status_code == 200 and "lotse_gateway_http_requests_total" in scraped.text
        assert public.status_code == 404

        # Everything so far ran within its permissions: nats-server logs every refusal.
        assert not unexpected_violations(server.log.read_text()), server.output()

        # The first administrator, as the operator creates it (`docker compose run --rm admin
        # create-admin …`): identity takes it, and notifications' mailer delivers the link.
        admin = compose["services"]["admin"]
        admin_env = loopback.environment("admin", admin)
        created = await run([*argv({**admin, "command": []}), "create-admin", "--email", "first.admin@example.org",
                             "--username", "first.admin"], admin_env)
        assert created.returncode == 0, created.stdout + created.stderr
        [setup] = await smtp.inbox.wait_for("first.admin@example.org", timeout=30)
        assert not unexpected_violations(server.log.read_text()), server.output()

        # Signing out everywhere, within the permissions: identity writes the revocation list,
        # the gateway and the directory (asked through the gateway) read it and refuse the token.
        api = GraphQL(f"http://127.0.0.1:{loopback.http_port}")
        assert (await api(RESET, token=token_in(setup, "/reset"), newPassword=STRONG))["resetPassword"]["ok"]
        session = (await api(SIGN_IN, identifier="first.admin", password=STRONG))["signIn"]
        me = api.as_(session["accessToken"])
        assert (await me("{ myActors { id } }"))["myActors"] == []
        assert (await me(SIGN_OUT_EVERYWHERE))["signOutEverywhere"]["ok"]
        for document in (VIEWER, "{ myActors { id } }"):
            assert await refused_within(me, document, READY_TIMEOUT), document
        assert not unexpected_violations(server.log.read_text()), server.output()

        # A person's data, within the permissions: the export gathers every service's section
        # with the granted credential; the erasure asks the directory first, then identity and
        # the directory erase their events and the mailer what it delivered.
        admin_session = (await api(SIGN_IN, identifier="first.admin", password=STRONG))["signIn"]
        only_admin = (await api.as_(admin_session["accessToken"])(DELETE_ACCOUNT, password=STRONG))["deleteAccount"]
        assert [e["code"] for e in only_admin["userErrors"]] == ["CONFLICT"], only_admin
        assert (await register(api, "erika.compose", "erika.compose@example.org"))["ok"]
        [confirm] = await smtp.inbox.wait_for("erika.compose@example.org", timeout=30)
        assert (await api(CONFIRM, token=token_in(confirm, "/confirm")))["confirmEmail"]["ok"]
        erika = api.as_((await api(SIGN_IN, identifier="erika.compose", password=STRONG))["signIn"]["accessToken"])
        assert (await erika(EXPORT_MY_DATA))["exportMyData"]["ok"]
        [_, export] = await smtp.inbox.wait_for("erika.compose@example.org", count=2, timeout=30)
        async with httpx.AsyncClient(timeout=10) as web:
            download = await post_form(web, f"http://127.0.0.1:{loopback.http_port}/my-data",
                                       {"token": token_in(export, "/my-data")})
        assert download.status_code == 200, download.text
        assert set(download.json()["services"]) == {"identity", "directory", "news", "notifications"}
        assert (await erika(DELETE_ACCOUNT, password=STRONG))["deleteAccount"]["ok"]
        await smtp.inbox.wait_for("erika.compose@example.org", count=3, timeout=30)  # "deleted"
        erasers = [p for p in processes if p.name in ("identity", "directory")]
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        while not all('"privacy.erased"' in p.log.read_text() for p in erasers):
            assert asyncio.get_running_loop().time() < deadline, [p.output() for p in erasers]
            assert not any("privacy.erase_failed" in p.log.read_text() for p in erasers), [p.output() for p in erasers]
            await asyncio.sleep(0.2)
        assert not unexpected_violations(server.log.read_text()), server.output()

        # What only the operator and identity may do is refused to the others.
        gateway_url = envs["gateway"]["LOTSE_NATS_URL"]

        forged = ("identity.create_admin", "$KV.identity-jwks.forged", "$KV.identity-revocations.account.forged",
                  "identity.events.account.forged")

        async def as_gateway(nc):
            for subject in forged:
                await nc.publish(subject, b"{}")

        refused = await violations(gateway_url, as_gateway)
        for subject in forged:
            assert any(f'publish to "{subject.lower()}"' in e for e in refused), (subject, refused)

        async def as_directory(nc):  # a service may read the revocation list, not write it
            await nc.publish("$KV.identity-revocations.session.forged", b"{}")

        refused = await violations(envs["directory"]["LOTSE_NATS_URL"], as_directory)
        assert any('publish to "$kv.identity-revocations.session.forged"' in e for e in refused), refused

        async def as_notifications(nc):
            await nc.subscribe("_INBOX.>")  # everyone's replies, the gateway's session tokens among them
            await nc.publish("$JS.API.STREAM.DELETE.IDENTITY", b"")

        refused = await violations(envs["notifications"]["LOTSE_NATS_URL"], as_notifications)
        assert any('subscription to "_inbox.>"' in e for e in refused), refused
        assert any('publish to "$js.api.stream.delete.identity"' in e for e in refused), refused

        # `docker compose stop`: SIGTERM, the gateway first, then the services.
        for process in reversed(processes):
            code = await process.stop()
            assert code == 0, f"{process.name} exited with {code}:\n{process.output()}"
        assert await server.stop() == 0
    finally:
        for process in [*processes, server]:
            process.kill()
        smtp.stop()
