"""Writing the public pages (政务公开): one self-contained HTML file for the plan and one per key
task, with their style inside and no script, fit to copy onto a government website."""

from __future__ import annotations

from pathlib import Path

from domain.adapters.files import write_atomically
from domain.adapters.jinja import environment
from domain.rules.disclosure import Disclosure

INDEX = "index.html"


def write_site(view: Disclosure, out: Path) -> list[Path]:
    """Write ``index.html`` and ``task-NN.html`` into ``out`` (made if missing), each file
    replaced whole; task pages of tasks no longer in the plan are removed. Returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    env = environment()
    pages = {INDEX: env.get_template("public/index.html.j2").render(view=view)}
    task_page = env.get_template("public/task.html.j2")
    for task in view.tasks:
        pages[f"{task.slug}.html"] = task_page.render(view=view, task=task)
    for stale in out.glob("task-*.html"):
        if stale.name not in pages:
            stale.unlink()
    written = []
    for name, html in pages.items():
        path = out / name
        write_atomically(path, html.encode("utf-8"))
        written.append(path)
    return written
