"""Errors a user can act on: every problem names the file, the key path and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        key = self.key or "(top level)"
        return f"{self.file}: {key}: {self.message}"


class ScenarioError(Exception):
    """Bad input. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class OutputError(Exception):
    """An output folder that cannot be used (a file in the way, no permission, a full disk, another batch
    writing to it): one line for the user, exit 2, found before any work starts where it can be."""
