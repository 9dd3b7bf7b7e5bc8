"""The console in a real headless Chromium (Debian's ``chromium`` driven by Playwright): sign in, an edit with a
validation error, save, attach an unanswered question, publish, the bot answering from the new content, and two
officers editing the same procedure at once.

Screenshots go to a temporary folder, or to ``$CONSOLE_SCREENSHOTS`` (``CONSOLE_SCREENSHOTS=docs/console`` refreshes
the ones in the documentation).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from onestop import handoffs
from onestop.handoffs import unanswered

from .helpers import EDITOR, EDITOR2

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MARKER = "Lệ phí đăng ký khai sinh quá hạn tại Hà Nội: 8.000 đồng (đã xác minh thử)."
REPO = Path(__file__).resolve().parents[2]


def _chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        pytest.fail(f"the browser tests need Debian's Chromium at {CHROMIUM}: run `apt-get install -y chromium` "
                    "(Playwright's bundled browser download does not work here)")
    return path


@pytest.fixture
async def browser() -> AsyncIterator:
    """A headless Chromium (the real browser, not Playwright's download)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -r requirements.lock")
    path = _chromium()
    async with async_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        b = await p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        await b.close()


@pytest.fixture
async def server(app) -> AsyncIterator[str]:
    """The console served on a local port."""
    srv = TestServer(app)
    await srv.start_server()
    yield str(srv.make_url("")).rstrip("/")
    await srv.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots are written."""
    target = os.environ.get("CONSOLE_SCREENSHOTS")
    out = (REPO / target) if target and not os.path.isabs(target) else Path(target) if target else tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    return out


async def _sign_in(page, base: str, account) -> None:
    await page.goto(base + "/procedures")
    assert "/login" in page.url  # nothing without signing in
    await page.fill("#username", account["username"])
    await page.fill("#password", account["password"])
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    assert page.url == base + "/procedures", (page.url, await page.inner_text("main"))


async def test_officer_edits_attaches_publishes_and_the_bot_answers_from_the_new_content(
        browser, server, shots, searcher_ready, console_env):
    for sender, text in (("zalo-1", "xin giấy chào đời cho con ở đâu"), ("zalo-2", "xin giay chao doi cho con o dau"),
                         ("fb-3", "xin giấy chào đời cho con ở đâu ạ, sđt 0912345678"),
                         ("fb-4", "giá vàng hôm nay bao nhiêu")):
        unanswered.record(sender, text, "declined")
    handoffs.record_handoff("zalo-7", "zalo", "requested", "cho em gặp cán bộ với ạ")
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = await context.new_page()
    await page.goto(server + "/procedures")
    await page.screenshot(path=str(shots / "login.png"))
    await _sign_in(page, server, EDITOR)
    await page.fill("input[name=q]", "khai sinh")
    await page.click("form[role=search] button")
    await page.screenshot(path=str(shots / "procedures.png"))

    # edit with a validation error: shown next to the field, nothing saved
    await page.click("text=Đăng ký khai sinh")
    await page.wait_for_url(server + "/procedures/khai_sinh")
    link = await page.input_value("#f-official_link")
    await page.fill("#f-official_link", "dichvucong.gov.vn/khai-sinh")
    await page.fill("#f-fees\\.text", MARKER)
    await page.click("#save")
    error = page.locator('[data-field="official_link"] .error')
    assert "không phải đường dẫn" in await error.inner_text()
    assert "chỗ cần sửa" in await page.inner_text("#form-errors")
    await page.locator('[data-field="official_link"]').scroll_into_view_if_needed()
    await page.screenshot(path=str(shots / "edit-error.png"))
    assert await page.input_value("#f-fees\\.text") == MARKER  # the officer's typing is kept

    # fix and save
    await page.fill("#f-official_link", link)
    await page.click("#save")
    await page.wait_for_load_state()
    assert page.url == server + "/procedures/khai_sinh?ok=saved", await page.locator(".error, .alert").all_inner_texts()
    assert "Đã lưu phiên bản mới" in await page.inner_text(".flash")

    # an unanswered question attached to a procedure
    await page.goto(server + "/unanswered")
    group = page.locator(".group").first
    assert "3 lần" in await group.inner_text()
    assert "0912345678" not in await page.content()
    await page.screenshot(path=str(shots / "unanswered.png"), full_page=True)
    await group.locator("select[name=procedure]").select_option("khai_sinh")
    await group.locator("select[name=as]").select_option("alias")
    await group.locator("input[name=text]").fill("giấy chào đời")
    await group.locator("text=Gắn vào thủ tục").click()
    await page.wait_for_url(server + "/unanswered?ok=attached")

    # publish: progress, then done
    await page.goto(server + "/publish")
    assert "Thay đổi chờ xuất bản (1)" in await page.inner_text("main")
    await page.click("#publish")
    await page.wait_for_selector('#job-state[data-state="done"]', state="attached", timeout=240_000)
    assert "Chỉ mục đã cập nhật" in await page.inner_text("#job-message")
    await page.screenshot(path=str(shots / "publish.png"))

    # the bot answers from the new content (its searcher swaps in the new index by itself)
    await page.goto(server + "/try")
    for _ in range(60):
        await page.fill("input[name=q]", "làm giấy khai sinh hết bao nhiêu tiền")
        await page.click("main form button")
        await page.wait_for_selector("#answer")
        if MARKER in await page.inner_text("#answer"):
            break
        await page.wait_for_timeout(500)
    assert MARKER in await page.inner_text("#answer")
    assert "Lệ phí" in await page.inner_text("#aspect")
    assert "khai_sinh" in await page.inner_text("#results")
    await page.screenshot(path=str(shots / "try.png"), full_page=True)
    await page.fill("input[name=q]", "xin giấy chào đời cho con cần gì")
    await page.click("main form button")
    await page.wait_for_selector("#answer")
    assert "Đăng ký khai sinh" in await page.inner_text("#answer")

    # versions: compare with the previous one
    await page.goto(server + "/procedures/khai_sinh/history")
    await page.screenshot(path=str(shots / "history.png"))
    await page.click("text=So với bản trước >> nth=0")
    assert "+  - giấy chào đời" in await page.inner_text(".diff")
    await page.screenshot(path=str(shots / "diff.png"))
    await page.goto(server + "/handoffs/zalo-7")
    await page.screenshot(path=str(shots / "handoff.png"))
    await context.close()

    # on a phone
    phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      device_scale_factor=2, locale="vi-VN")
    page = await phone.new_page()
    await _sign_in(page, server, EDITOR)
    await page.goto(server + "/try?q=l%C3%A0m%20gi%E1%BA%A5y%20khai%20sinh%20h%E1%BA%BFt%20bao%20nhi%C3%AAu%20ti%E1%BB%81n")
    assert MARKER in await page.inner_text("#answer")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    await page.screenshot(path=str(shots / "try-phone.png"))
    await page.goto(server + "/procedures/khai_sinh")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.close()


async def test_two_officers_editing_the_same_procedure_the_second_save_is_refused(browser, server, console_env):
    lan = await (await browser.new_context()).new_page()
    hoa = await (await browser.new_context()).new_page()
    await _sign_in(lan, server, EDITOR)
    await _sign_in(hoa, server, EDITOR2)
    for page in (lan, hoa):
        await page.goto(server + "/procedures/tam_tru")
    await lan.fill("#f-name", "Đăng ký tạm trú (bản của Lan)")
    await hoa.fill("#f-name", "Đăng ký tạm trú (bản của Hoa)")
    await lan.click("#save")
    await lan.wait_for_url(server + "/procedures/tam_tru?ok=saved")
    await hoa.click("#save")
    message = await hoa.inner_text("#conflict")
    assert "Thủ tục này vừa được Nguyễn Thị Lan sửa lúc" in message
    assert "chưa được lưu" in message
    assert await hoa.input_value("#f-name") == "Đăng ký tạm trú (bản của Hoa)"
    await lan.reload()
    assert await lan.input_value("#f-name") == "Đăng ký tạm trú (bản của Lan)"


async def test_the_dashboard_on_a_phone_and_a_desktop(browser, server, shots, console_env):
    """Charts drawn (SVG), nothing wider than the screen, the office filter applied from the form; screenshots."""
    from . import stats_seed

    stats_seed.seed()
    week = "/dashboard?from=2026-11-23&to=2026-11-26"
    for name, size in (("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1280, "height": 900})):
        context = await browser.new_context(viewport=size, locale="vi-VN")
        page = await context.new_page()
        await _sign_in(page, server, EDITOR)
        await page.goto(server + week)
        assert await page.locator("svg.chart").count() == 10
        widths = await page.eval_on_selector_all("svg.chart", "els => els.map(e => e.getBoundingClientRect().width)")
        assert all(0 < w <= size["width"] for w in widths), widths
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"
        # the bars are there: the seeded week's 8 messages are drawn as rectangles inside the first chart
        assert await page.locator("#chart-messages svg path").count() > 4
        assert "chưa ghi nhận" in await page.inner_text("#chart-bookings")
        await page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=True)
        if name == "desktop":
            await page.select_option("#office", stats_seed.BA_DINH)
            await page.click("form.filters button[type=submit]")
            await page.wait_for_load_state()
            assert f"office={stats_seed.BA_DINH}" in page.url
            rows = await page.inner_text("#chart-bookings table")
            assert "UBND phường Ba Đình" in rows and "Hoàn Kiếm" not in rows and "168" in rows
            href = await page.get_attribute("#csv", "href")
            assert href.endswith(f"office={stats_seed.BA_DINH}")
        await context.close()
