"""Code Voila runs inside the `vru explore` server (kept apart from the explorer so the server stays light)."""

from __future__ import annotations

from typing import Any


def set_xsrf_cookie(request: Any, notebook: Any, cwd: str) -> None:
    """Voila's prelaunch hook: give the page its `_xsrf` cookie before its kernel starts.

    On tab close the page asks the server to shut its kernel down with `navigator.sendBeacon`, which cannot
    send a header, so it posts the `_xsrf` cookie's value as a form field. Voila never sets that cookie, so
    the post was refused (403 "'_xsrf' argument missing") and every closed tab left a kernel running.
    Reading `xsrf_token` makes tornado set the cookie; the server's XSRF check stays on.
    """
    request.xsrf_token  # noqa: B018 - read for its side effect: tornado sets the cookie
