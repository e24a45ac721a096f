"""Voila settings for `vru explore`: only what the command line cannot say (a Python callable).

Loaded through `--Voila.config_file_paths`, which also stops Voila running a voila.py from the folder the
command is started in.
"""

from vru_model.apps.voila_hooks import set_xsrf_cookie

c = get_config()  # noqa: F821 - traitlets provides get_config to config files
c.VoilaConfiguration.prelaunch_hook = set_xsrf_cookie
