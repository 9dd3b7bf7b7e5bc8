"""The dashboard page (issue 16): the figures of onestop.stats for a date range and an office, as charts and CSV.

The figures are read from the statistics record the Rasa event broker keeps (cluster.stats_broker) and from the
bookings, hand-off, unanswered, feedback and notification tables; nothing here runs during a citizen's turn.
Queries and charts are blocking: both run in a worker thread.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from infra import db
from knowledge.compose import ASPECT_TITLES
from onestop.stats import dashboard as stats
from onestop.stats.period import MAX_DAYS, Filters

from console import charts
from console.web import VIEW, access, render, today

DEFAULT_DAYS = 14
CHANNEL_NAMES = {"zalo": "Zalo", "messenger": "Messenger", "facebook": "Messenger", "rest": "Web (thử nghiệm)",
                 "rasa": "Web (thử nghiệm)", "cmdline": "Dòng lệnh"}
OUTCOME_NAMES = {"answered": "Đã trả lời", "declined": "Từ chối / chưa trả lời được", "handed_off": "Chuyển cán bộ"}
OUTCOME_COLORS = {"Đã trả lời": charts.GOOD, "Từ chối / chưa trả lời được": charts.BAD,
                  "Chuyển cán bộ": charts.PALETTE[0]}
REASON_NAMES = {"declined": "Bot từ chối", "catalogue": "Trả lời từ CSDL quốc gia",
                "fallback": "Bot không hiểu"}
STATUS_NAMES = {"sent": "Đã gửi", "failed": "Lỗi", "skipped": "Bỏ qua (không gửi được theo quy định)",
                "pending": "Đang chờ gửi"}
STATUS_COLORS = {"Đã gửi": charts.GOOD, "Lỗi": charts.BAD, "Bỏ qua (không gửi được theo quy định)": charts.NEUTRAL,
                 "Đang chờ gửi": charts.PALETTE[1]}
PURPOSE_NAMES = {"appointment_reminder": "Nhắc lịch hẹn", "dossier_status": "Tình trạng hồ sơ",
                 "callback_scheduled": "Hẹn gọi lại"}
ROUTE_NAMES = {"chat": "trong cuộc trò chuyện", "zns": "ZNS", "tag": "tin nhắn có thẻ", "none": "không có kênh"}


def _date(text: str) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def filters_of(query: Any, offices: List[Tuple[str, str]]) -> Tuple[Filters, str]:
    """The filters of the page's query (from, to, office), and a Vietnamese message when some were refused."""
    end_default = today()
    problems = []
    end = _date(query.get("to", "")) if query.get("to") else end_default
    if end is None:
        problems.append("ngày kết thúc không đúng dạng")
        end = end_default
    start = _date(query.get("from", "")) if query.get("from") else end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start is None:
        problems.append("ngày bắt đầu không đúng dạng")
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        problems.append("ngày bắt đầu sau ngày kết thúc")
        start, end = end - dt.timedelta(days=DEFAULT_DAYS - 1), end
    if (end - start).days + 1 > MAX_DAYS:
        problems.append(f"khoảng thời gian dài quá {MAX_DAYS} ngày")
        start = end - dt.timedelta(days=MAX_DAYS - 1)
    office = (query.get("office") or "").strip() or None
    if office is not None and office not in {oid for oid, _ in offices}:
        problems.append("không có điểm tiếp nhận đã chọn")
        office = None
    message = ("Chưa dùng được bộ lọc (" + "; ".join(problems) + "); đang hiển thị mặc định cho phần đó.") \
        if problems else ""
    return Filters(start, end, office), message


def _office_choices() -> List[Tuple[str, str]]:
    from knowledge.offices import all_offices

    return [(o.id, o.name) for o in all_offices()]


def _procedure_name(key: str) -> str:
    from knowledge.offices import get_procedure

    try:
        proc = get_procedure(key)
    except Exception:  # a catalogue key or an unreadable knowledge folder: the key is still meaningful
        proc = None
    return proc.name if proc is not None else key


def _channel(name: str) -> str:
    return CHANNEL_NAMES.get(name, name)


def duration(minutes: Optional[float]) -> str:
    """A wait as officers say it: minutes, hours past two hours, days past two days."""
    if minutes is None:
        return "–"
    if minutes < 120:
        return f"{minutes:.0f} phút"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} giờ"
    return f"{minutes / 1440:.0f} ngày"


def build(query: Any) -> Dict[str, Any]:
    """Every figure and chart of the page (blocking)."""
    offices = _office_choices()
    f, problem = filters_of(query, offices)
    data = stats.dashboard(f)
    days = data["days"]
    t, a, h, b, n = data["traffic"], data["asked"], data["handoffs"], data["bookings"], data["notifications"]
    outcomes = {OUTCOME_NAMES[k]: v for k, v in data["outcomes"].items()}
    feedback = data["feedback"][:10]
    fb_labels = [_procedure_name(r["procedure_key"]) if r["kind"] == "answer" else "Đặt lịch hẹn" for r in feedback]
    chart = {
        "messages": charts.stacked_days(days, {_channel(c): t["messages"][c] for c in t["channels"]},
                                        "Tin nhắn của người dân theo ngày và kênh"),
        "conversations": charts.lines_days(days, {_channel(c): t["conversations"][c] for c in t["channels"]},
                                           "Cuộc trò chuyện theo ngày và kênh"),
        "procedures": charts.ranking([_procedure_name(k) for k, _ in a["procedures"]],
                                     [v for _, v in a["procedures"]], "Thủ tục được hỏi nhiều nhất")
        if a["procedures"] else "",
        "aspects": charts.ranking([ASPECT_TITLES.get(k, k) for k, _ in a["aspects"]], [v for _, v in a["aspects"]],
                                  "Nội dung được hỏi nhiều nhất", color=charts.PALETTE[4]) if a["aspects"] else "",
        "outcomes": charts.stacked_days(days, outcomes, "Kết quả các câu hỏi theo ngày", colors=OUTCOME_COLORS),
        "feedback": charts.split_ranking(fb_labels, [r["up"] for r in feedback], [r["down"] for r in feedback],
                                         "Tỷ lệ hài lòng theo thủ tục", ("Hữu ích", "Chưa hữu ích"))
        if feedback else "",
        "unanswered": charts.lines_days(days, {REASON_NAMES.get(k, k): v for k, v in data["unanswered"].items()},
                                        "Câu hỏi chưa trả lời theo ngày"),
        "first_response": charts.lines_days(days, {"Trung vị (phút)": h["median_per_day"]},
                                            "Thời gian cán bộ phản hồi đầu tiên", integer=False),
        "bookings": charts.stacked_days(days, {"Đã đặt": b["booked"], "Đã huỷ": b["cancelled"]},
                                        "Lịch hẹn theo ngày so với sức chứa",
                                        colors={"Đã đặt": charts.PALETTE[0], "Đã huỷ": charts.NEUTRAL},
                                        # one office's places per day are comparable with its bookings;
                                        # the sum over every office would flatten the bars to nothing
                                        line=("Sức chứa", b["capacity"]) if f.office else None),
        "notifications": charts.stacked_days(days, {STATUS_NAMES.get(k, k): v for k, v in n["by_status"].items()},
                                             "Nhắc lịch và thông báo theo ngày", colors=STATUS_COLORS),
    }
    totals = {name: sum(values) for name, values in data["outcomes"].items()}
    booked, cap = sum(b["booked"]), sum(b["capacity"])
    sent = sum(n["by_status"].get("sent", [])) if n["by_status"] else 0
    failed = sum(n["by_status"].get("failed", [])) if n["by_status"] else 0
    return {"data": data, "chart": chart, "filters": f, "problem": problem, "offices": offices,
            "office_name": dict(offices).get(f.office or "", ""), "totals": totals,
            "booked": booked, "capacity": cap, "used_pct": round(100 * booked / cap) if cap else None,
            "sent": sent, "failed": failed, "feedback_labels": fb_labels,
            "purpose_names": PURPOSE_NAMES, "route_names": ROUTE_NAMES, "procedure_name": _procedure_name,
            "aspect_titles": ASPECT_TITLES, "channel_name": _channel, "duration": duration}


@access(VIEW)
async def dashboard_page(request: web.Request) -> web.Response:
    """Charts for a date range and an office, with the figures behind them."""
    context = await asyncio.to_thread(build, request.query)
    return render(request, "dashboard.html", section="dashboard", **context)


@access(VIEW)
async def dashboard_csv(request: web.Request) -> web.Response:
    """Every figure of the dashboard for the same filters, one per CSV row (section, series, key, value)."""
    def export() -> Tuple[Filters, str]:
        f, _ = filters_of(request.query, _office_choices())
        return f, stats.to_csv(stats.dashboard(f))

    f, text = await db.run_sync(export)
    name = f"thong-ke_{f.start.isoformat()}_{f.end.isoformat()}{'_' + f.office if f.office else ''}.csv"
    # A BOM so that spreadsheet programs read the Vietnamese names as UTF-8.
    return web.Response(body=("\ufeff" + text).encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


def add_routes(app: web.Application) -> None:
    """Register the dashboard and its export."""
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/dashboard.csv", dashboard_csv)
