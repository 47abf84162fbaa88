"""Session fixtures: two real registries with htpasswd auth, each holding team/app:1.0 pushed by skopeo."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import OciImage, Registry, Skopeo, build_oci_layout, require_tools


@dataclass(frozen=True)
class Registries:
    """The two registries: ``a`` (user alice) and ``b`` (user bob), and the images pushed into them."""

    a: Registry
    b: Registry
    images: dict[str, OciImage]

    def pair(self, name: str) -> tuple[Registry, Registry]:
        """(this registry, the other one)."""
        return (self.a, self.b) if name == "a" else (self.b, self.a)


@pytest.fixture(scope="session")
def e2e_tools() -> dict[str, str]:
    """docker-registry, skopeo and htpasswd must be installed: FAIL (not skip) otherwise."""
    return require_tools()


@pytest.fixture(scope="session")
def skopeo(e2e_tools: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Skopeo:
    """skopeo isolated from any credentials on this machine."""
    return Skopeo(home=tmp_path_factory.mktemp("skopeo-home"))


@pytest.fixture(scope="session")
def registries(
    e2e_tools: dict[str, str], skopeo: Skopeo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registries]:
    """Two running registries on free loopback ports, different users, image team/app:1.0 in each."""
    started: list[Registry] = []
    try:
        regs = []
        for name, user in (("a", "alice"), ("b", "bob")):
            reg = Registry(
                name=name,
                workdir=tmp_path_factory.mktemp(f"registry-{name}"),
                user=user,
                password=secrets.token_urlsafe(18),
            )
            reg.start()
            started.append(reg)
            regs.append(reg)
        images = {}
        for reg in regs:
            image = build_oci_layout(tmp_path_factory.mktemp(f"oci-{reg.name}") / "layout", label=reg.name)
            skopeo.push(image, reg)
            images[reg.name] = image
        yield Registries(regs[0], regs[1], images)
    finally:
        for reg in started:
            reg.stop()


@pytest.fixture
def pulls(tmp_path: Path) -> Path:
    """A directory for pulled OCI layouts."""
    path = tmp_path / "pulls"
    path.mkdir()
    return path
