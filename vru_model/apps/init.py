"""`vru init DIR`: a working folder of one's own, outside any checkout: the shipped scenarios (and the actuals
example) to start from, a README saying what to run, and an outputs/ folder for the results."""

from __future__ import annotations

import shutil
from pathlib import Path

from vru_model.core.errors import OutputError
from vru_model.core.resources import shipped

README = """# {name}: a VRU Workbench folder

Made by `vru init`. Scenarios live in `scenarios/` (copies of the shipped ones: edit them, or add your own that
`extends: baseline.yaml`); results go to `outputs/`.

    vru validate scenarios/*.yaml                                  # check the files, every problem at once
    vru solve scenarios/baseline.yaml                              # one plan: outputs/baseline/
    vru batch scenarios/baseline.yaml --out outputs --workers 1    # the board report: outputs/index.html
    vru batch --out outputs                                        # every scenario in scenarios/
    vru explore                                                    # the director's explorer, on these scenarios

From Python or Jupyter:

    import vru_model as vru
    result = vru.solve(vru.load_scenario("scenarios/baseline.yaml"))
    result.allocation.head()

The analyst's worked notebook is `analyst_guide.ipynb` in this folder. `vru --help` lists every command.
"""


def init_folder(folder: Path) -> list[Path]:
    """Make `folder` a working folder; refuse (OutputError, nothing written) where it already has scenarios,
    outputs or a README, so nobody's own files are replaced. Returns what was written."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder")
    in_the_way = [folder / n for n in ("scenarios", "outputs", "README.md", "analyst_guide.ipynb")
                  if (folder / n).exists()]
    if in_the_way:
        raise OutputError(f"{folder} is already in use ({', '.join(p.name for p in in_the_way)} there): "
                          "choose a new folder")
    source = shipped("scenarios")
    written = []
    (folder / "scenarios").mkdir(parents=True)
    for path in sorted(source.glob("*.yaml")):
        written.append(Path(shutil.copy2(path, folder / "scenarios" / path.name)))
    if (source / "actuals").is_dir():
        written.append(Path(shutil.copytree(source / "actuals", folder / "scenarios" / "actuals")))
    written.append(Path(shutil.copy2(shipped("notebooks") / "analyst_guide.ipynb", folder / "analyst_guide.ipynb")))
    (folder / "outputs").mkdir()
    written.append(folder / "outputs")
    readme = folder / "README.md"
    readme.write_text(README.format(name=folder.resolve().name), encoding="utf-8")
    written.append(readme)
    return written
