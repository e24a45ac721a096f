"""`python -m vru_model` is the `vru` command."""

from vru_model.cli import main

main()
