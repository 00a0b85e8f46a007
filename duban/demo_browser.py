"""A person's browser for the main job: it opens the owner's pages over HTTP, reads their forms
(the fields, the hidden token, what is ticked) and sends them back, following redirects.

Only what duban's own pages use: ``<form>``, ``<input>`` (hidden, text, date, radio, checkbox,
file), ``<textarea>`` and links inside list cards (``<li class="card red">``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class Form:
    """One form of a page: where it goes, its fields as a browser would send them, and the
    boxes it offers to tick."""

    action: str
    multipart: bool
    fields: dict[str, str] = field(default_factory=dict)
    boxes: list[tuple[str, str, bool]] = field(default_factory=list)
    """Checkboxes: (name, value, ticked)."""


@dataclass
class Link:
    """A link and the colour of the card it sits in ("" outside a card)."""

    href: str
    card: str


@dataclass
class Page:
    """A page as the browser holds it after loading: its address, status and forms."""

    url: str
    status: int
    text: str
    forms: list[Form]
    links: list[Link]
    errors: list[str]
    """What the page says is wrong, beside each field."""

    def form(self, ending: str) -> Form | None:
        """The first form whose address ends with ``ending`` (before any ``#``)."""
        return next((f for f in self.forms if f.action.split("#")[0].endswith(ending)), None)


class _Reader(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self.links: list[Link] = []
        self.card = ""
        self.textarea: str | None = None
        self.errors: list[str] = []
        self.in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "li" and "card" in a.get("class", "").split():
            self.card = next((c for c in a["class"].split() if c != "card"), "")
        elif tag == "a" and a.get("href"):
            self.links.append(Link(urljoin(self.base, a["href"]), self.card))
        elif tag == "form":
            multipart = a.get("enctype") == "multipart/form-data"
            self.forms.append(Form(urljoin(self.base, a.get("action", "")), multipart))
        elif tag == "input" and self.forms and a.get("name"):
            self._input(self.forms[-1], a)
        elif tag == "textarea" and self.forms and a.get("name"):
            self.textarea = a["name"]
            self.forms[-1].fields[self.textarea] = ""
        elif tag == "p" and "field-error" in a.get("class", "").split():
            self.in_error = True
            self.errors.append("")

    def _input(self, form: Form, a: dict[str, str]) -> None:
        kind, name = a.get("type", "text"), a["name"]
        if kind == "checkbox":
            form.boxes.append((name, a.get("value", "on"), "checked" in a))
        elif kind == "radio":
            if "checked" in a:
                form.fields[name] = a.get("value", "")
        elif kind != "file":
            form.fields[name] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.card = ""
        elif tag == "textarea":
            self.textarea = None
        elif tag == "p":
            self.in_error = False

    def handle_data(self, data: str) -> None:
        if self.in_error:
            self.errors[-1] += data
        if self.textarea is not None:
            self.forms[-1].fields[self.textarea] += data


class Browser:
    """One person's browser session; pages come back after redirects, as a browser shows them."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def open(self, url: str) -> Page:
        """Load a page (GET)."""
        return self.page_of(self.client.get(url, follow_redirects=True))

    def submit(
        self,
        form: Form,
        values: dict[str, str] | None = None,
        *,
        ticked: bool = True,
        file: tuple[str, bytes] | None = None,
    ) -> Page:
        """Send ``form`` with ``values`` typed over its fields, every box ticked (or none), and
        a file for its file field; the page it ends on."""
        data: dict[str, str | list[str]] = {**form.fields, **(values or {})}
        for name, value, _ in form.boxes if ticked else ():
            listed = data.setdefault(name, [])
            if isinstance(listed, list):
                listed.append(value)
        files = {"file": (file[0], file[1], "application/octet-stream")} if file else None
        answer = self.client.post(
            form.action.split("#")[0],
            data=data,
            files=files,
            headers={"Sec-Fetch-Site": "same-origin"},
            follow_redirects=True,
        )
        return self.page_of(answer)

    @staticmethod
    def page_of(answer: httpx.Response) -> Page:
        """The page an answer shows: its forms, links and errors read."""
        reader = _Reader(str(answer.url))
        reader.feed(answer.text)
        url, text = str(answer.url), answer.text
        return Page(url, answer.status_code, text, reader.forms, reader.links, reader.errors)
