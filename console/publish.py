"""Publishing: write the drafts to the knowledge files, then rebuild the search index incrementally in a separate
process (``python -m knowledge build``), reporting progress for the console to poll.

The action server (and the console's own try-the-bot) notice the new index by themselves
(knowledge.client checks the index's metadata every few seconds and swaps in the new searcher).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from infra import db

from console.content import Repository

PROGRESS = re.compile(r"(\d+)/(\d+)")
SUMMARY = re.compile(r"(\d+) chunks: (\d+) embedded, (\d+) reused, (\d+) removed in ([\d.]+) s")


@dataclass
class Job:
    """One publish run as the progress page shows it."""

    author: str
    state: str = "running"            # running | done | failed
    stage: str = "Đang ghi nội dung vào tệp"
    done: int = 0
    total: int = 0
    message: str = ""
    files: List[str] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    def to_json(self) -> Dict[str, Any]:
        """The poll endpoint's answer."""
        return asdict(self)


class Publisher:
    """Runs at most one publish at a time for this console process."""

    def __init__(self, repo: Repository, index_dir: Path, timeout: float = 1800.0):
        self.repo = repo
        self.index_dir = Path(index_dir)
        self.timeout = timeout
        self.job: Optional[Job] = None
        self._task: Optional["asyncio.Task[None]"] = None

    @property
    def running(self) -> bool:
        """True while a publish is in progress."""
        return self._task is not None and not self._task.done()

    def start(self, author: str) -> Job:
        """Start publishing in the background (or return the run already in progress)."""
        if self.running and self.job is not None:
            return self.job
        self.job = Job(author=author, started_at=_now())
        self._task = asyncio.get_running_loop().create_task(self._run(self.job))
        return self.job

    async def wait(self) -> Optional[Job]:
        """Wait for the current run (tests, shutdown)."""
        if self._task is not None:
            await asyncio.shield(self._task)
        return self.job

    async def _run(self, job: Job) -> None:
        try:
            try:
                job.files, _ = await db.run_sync(self.repo.publish_files)
            except ValueError as exc:
                job.state, job.message = "failed", "Nội dung chưa hợp lệ nên chưa xuất bản:\n" + str(exc)
                return
            job.stage = "Đang cập nhật chỉ mục tìm kiếm"
            ok, summary = await self._build(job)
            if ok:
                job.state, job.stage = "done", "Đã xuất bản"
                job.message = summary or "Chỉ mục đã được cập nhật."
            else:
                job.state, job.message = "failed", "Cập nhật chỉ mục không thành công: " + summary
        except Exception as exc:  # the page must say what happened instead of spinning forever
            job.state, job.message = "failed", f"Lỗi không mong đợi: {exc}"
            raise
        finally:
            job.finished_at = _now()

    async def _build(self, job: Job) -> "tuple[bool, str]":
        """Run the incremental build in a child process, following its progress on stderr."""
        env = dict(os.environ)
        env.setdefault("KB_TORCH_THREADS", "1")  # a shared machine: one core for the build
        cmd = [sys.executable, "-m", "knowledge", "build", "--kb-dir", str(self.repo.kb_dir),
               "--index-dir", str(self.index_dir)]
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE, env=env)
        tail: List[str] = []

        async def follow() -> None:
            assert proc.stderr is not None
            buffer = ""
            while True:
                chunk = await proc.stderr.read(256)
                if not chunk:
                    break
                buffer = (buffer + chunk.decode(errors="replace"))[-2000:]
                for match in PROGRESS.finditer(buffer):
                    job.done, job.total = int(match.group(1)), int(match.group(2))
            tail.append(buffer.strip())

        try:
            assert proc.stdout is not None
            out, _, _ = await asyncio.wait_for(asyncio.gather(proc.stdout.read(), follow(), proc.wait()),
                                               timeout=self.timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            return False, f"quá {int(self.timeout)} giây"
        summary = out.decode(errors="replace").strip()
        if proc.returncode != 0:
            last = (tail[-1] if tail else "").splitlines()
            return False, (last[-1] if last else f"mã lỗi {proc.returncode}")
        counts = SUMMARY.search(summary)
        if counts:  # a small change may embed too few chunks for the build to print progress
            job.total = max(job.total, int(counts.group(2)))
            job.done = job.total
        return True, _summary_vi(summary)


def _summary_vi(line: str) -> str:
    """The build's one-line summary in Vietnamese (the original when it has another shape)."""
    m = SUMMARY.search(line)
    if m:
        return (f"Chỉ mục đã cập nhật: {m.group(1)} đoạn, tính lại {m.group(2)}, dùng lại {m.group(3)}, "
                f"bỏ {m.group(4)} ({m.group(5)} giây).")
    if line.startswith("index up to date"):
        return "Chỉ mục đã khớp với nội dung, không cần tính lại."
    return line


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
