"""The officers' pages: the home overview here, and every page's route (the pages live in item_views,
review_views, handoff_views and catalogue_views)."""
from __future__ import annotations

from typing import Any, Dict

from aiohttp import web

from infra import db
from onestop import handoffs

from console import handoff_views as hv
from console import item_views as iv
from console import review_views as rv
from console import store
from console import unanswered as unans
from console.web import REPO, VIEW, access, render


@access(VIEW)
async def home(request: web.Request) -> web.Response:
    """Overview: drafts waiting for publishing, open hand-offs, unanswered groups."""
    repo = request.app[REPO]

    def gather() -> Dict[str, Any]:
        repo.sync()
        return {"drafts": store.unpublished(), "handoffs": handoffs.list_handoffs(),
                "groups": unans.open_groups()}

    data = await db.run_sync(gather)
    return render(request, "home.html", **data)


# ----------------------------------------------------------------------------------------------- routes
def add_routes(app: web.Application) -> None:
    """Register every page (the auth middleware refuses anything not declared with @access)."""
    r = app.router
    r.add_get("/", home, name="home")
    kinds = "{kind:procedures|offices}"
    r.add_get(f"/{kinds}", iv.item_list)
    r.add_get(f"/{kinds}/new", iv.new_page)
    r.add_post(f"/{kinds}/new", iv.item_create)
    r.add_get(f"/{kinds}/{{key:[a-z0-9_]+}}", iv.item_page)
    r.add_post(f"/{kinds}/{{key:[a-z0-9_]+}}", iv.item_save)
    r.add_get(f"/{kinds}/{{key:[a-z0-9_]+}}/history", iv.item_history)
    r.add_get(f"/{kinds}/{{key:[a-z0-9_]+}}/diff/{{number:[0-9]+}}", iv.item_diff)
    r.add_post(f"/{kinds}/{{key:[a-z0-9_]+}}/revert/{{number:[0-9]+}}", iv.item_revert)
    r.add_get("/try", rv.try_bot)
    r.add_get("/unanswered", rv.unanswered_page)
    r.add_post("/unanswered/attach", rv.unanswered_attach)
    r.add_post("/unanswered/dismiss", rv.unanswered_dismiss)
    r.add_get("/publish", rv.publish_page)
    r.add_post("/publish", rv.publish_start)
    r.add_get("/publish/status", rv.publish_status)
    r.add_get("/handoffs", hv.handoff_list)
    r.add_get("/handoffs/{sender}", hv.handoff_page)
    r.add_post("/handoffs/{sender}/take", hv.handoff_take)
    r.add_post("/handoffs/{sender}/reply", hv.handoff_reply)
    r.add_post("/handoffs/{sender}/close", hv.handoff_close)
    r.add_post("/tickets/{ticket}/done", hv.ticket_done)
