"""The director's explorer: move a control, re-solve, see what runs, what closes and what is lost.

`ExplorerController` (controller.py) is plain Python, tested without a browser: it starts from a shipped
scenario, keeps the director's changes as dotted override keys (the same form as `vru solve --set`),
re-solves after each change (warm.py) and builds an `ExplorerView` (view.py). `render_html` (render.py)
turns a view into escaped HTML; saving.py writes the settings as a scenario without breaking the folder;
`vru_model.apps.widgets` puts ipywidgets controls over the controller, and launch.py serves that notebook
with Voila for `vru explore`.
"""

from vru_model.apps.explorer.controller import SCENARIOS_ENV, ExplorerController, default_scenarios_dir
from vru_model.apps.explorer.launch import (
    NOTEBOOK,
    VOILA_DIR,
    free_port,
    new_token,
    open_when_listening,
    voila_command,
    voila_environ,
)
from vru_model.apps.explorer.render import KEEP_BUTTON, ROOM_BUTTON, banner, render_html, sure_html
from vru_model.apps.explorer.saving import SHIPPED, check_save, shipped_names
from vru_model.apps.explorer.view import CliffEdgeView, ExplorerView, OutcomeRow, RoomView, ServiceRow
from vru_model.apps.explorer.words import month_label, one_line

__all__ = [
    "KEEP_BUTTON",
    "NOTEBOOK",
    "ROOM_BUTTON",
    "SCENARIOS_ENV",
    "SHIPPED",
    "VOILA_DIR",
    "CliffEdgeView",
    "ExplorerController",
    "ExplorerView",
    "OutcomeRow",
    "RoomView",
    "ServiceRow",
    "banner",
    "check_save",
    "default_scenarios_dir",
    "free_port",
    "month_label",
    "new_token",
    "one_line",
    "open_when_listening",
    "render_html",
    "shipped_names",
    "sure_html",
    "voila_command",
    "voila_environ",
]
