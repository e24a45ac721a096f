"""`python -m vru_model` is the `vru` command."""

from vru_model.apps.cli import main

main()
