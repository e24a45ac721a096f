"""The wheel carries the top-level notebooks/ and scenarios/ folders as package data (vru_model/_shipped/),
copied at build time so they stay where they are in the repository (vru_model.core.resources finds them)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = {"notebooks": ("*.ipynb", "jupyter/**/*"), "scenarios": ("*.yaml", "actuals/*")}


class BuildWithShipped(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the source tree
        for folder, patterns in SHIPPED.items():
            for pattern in patterns:
                for source in sorted((HERE / folder).glob(pattern)):
                    if source.is_file() and ".ipynb_checkpoints" not in source.parts:
                        target = Path(self.build_lib) / "vru_model" / "_shipped" / source.relative_to(HERE)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(source, target)


setup(cmdclass={"build_py": BuildWithShipped})
