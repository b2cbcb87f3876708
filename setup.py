"""Map each source root's ``atoll/<component>/`` onto the ``atoll.<component>`` package.

Source roots are the top-level folders ``core/`` (the ground floor: configuration and
what every engine shares), ``server/``, ``completion/``, ``indexing/``, ``agents/`` and
``bench/``; ``atoll`` itself is a PEP 420 namespace shared by them all.
Everything else is declared in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup

ROOTS = ("core", "server", "completion", "indexing", "agents", "bench")
HERE = Path(__file__).parent

packages: list[str] = []
package_dir: dict[str, str] = {}
for root in ROOTS:
    for component in sorted((HERE / root / "atoll").iterdir()):
        if not component.is_dir() or component.name.startswith(("_", ".")):
            continue
        name = f"atoll.{component.name}"
        package_dir[name] = f"{root}/atoll/{component.name}"
        packages.append(name)
        for sub in sorted(component.rglob("*")):
            if sub.is_dir() and sub.name != "__pycache__":
                packages.append(".".join([name, *sub.relative_to(component).parts]))

setup(packages=packages, package_dir=package_dir)
