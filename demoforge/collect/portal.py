"""The people's portal: server-rendered pages on the collector, no JavaScript framework.

A person signs in with a local account, gives, pauses or revokes consent,
replays each of their sessions (screenshots on a timeline of actions),
deletes one or all, and downloads their export. An admin records the
deployment gate, the allowlist and retention, and sees aggregate-only
statistics. An admin account has no page that shows a person's sessions.

Sessions are signed cookies (itsdangerous, via Starlette's
``SessionMiddleware``): HttpOnly, SameSite=Strict, Secure unless turned off
for plain-HTTP tests, eight hours. Every form carries a per-session CSRF
token; a POST without the right one is a 403 and changes nothing. Signing
in starts a fresh session (no fixation). Every read of personal data is an
audit-log entry.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask
from starlette.middleware.sessions import SessionMiddleware

from demoforge import config
from demoforge.events import Event, Screenshot
from demoforge.privacy.accounts import Account, Accounts
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry, ConsentState
from demoforge.privacy.derived import rebuild_without
from demoforge.privacy.erasure import erase_session
from demoforge.privacy.oidc import OidcSettings
from demoforge.privacy.retention import enforce
from demoforge.privacy.rights import TooFewContributors, export_person, session_stats
from demoforge.store import Store

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
SESSION_MAX_AGE = 8 * 3600
SECRET_ENV = "DEMOFORGE_PORTAL_SECRET"


@dataclass
class Portal:
    store: Store
    accounts: Accounts
    consent: ConsentRegistry
    audit: AuditLog


def portal_secret(home: Path | None = None) -> str:
    """``DEMOFORGE_PORTAL_SECRET``, or a random one kept (0600) under ``$DEMOFORGE_HOME``."""
    if value := os.environ.get(SECRET_ENV):
        return value
    path = (home or config.home()) / "portal.secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip()


def _portal(request: Request) -> Portal:
    return request.app.state.portal


def _csrf(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


def _check_csrf(request: Request, token: str) -> None:
    if not secrets.compare_digest(token.encode(), _csrf(request).encode()):
        raise HTTPException(403, "bad or missing CSRF token")


def _account(request: Request) -> Account | None:
    username = request.session.get("user")
    return _portal(request).accounts.get(username) if username else None


def _signed_in(request: Request) -> Account:
    account = _account(request)
    if account is None:
        raise HTTPException(303, headers={"Location": "/portal/login"})
    return account


def _person(account: Annotated[Account, Depends(_signed_in)]) -> Account:
    if account.role != "person" or account.contributor_id is None:
        raise HTTPException(403, "this page is for the person whose data it is")
    return account


def _admin(account: Annotated[Account, Depends(_signed_in)]) -> Account:
    if account.role != "admin":
        raise HTTPException(403, "administrators only")
    return account


Person = Annotated[Account, Depends(_person)]
Admin = Annotated[Account, Depends(_admin)]
Csrf = Annotated[str, Form()]


def _page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    context |= {"account": _account(request), "csrf": _csrf(request)}
    return TEMPLATES.TemplateResponse(request, f"portal/{name}", context, status_code=code)


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


router = APIRouter(prefix="/portal", include_in_schema=False)


def _login_page(request: Request, code: int = 200, **context: Any) -> HTMLResponse:
    """The sign-in page; with OIDC configured it also offers "Sign in with <provider>"."""
    return _page(request, "login.html", code, oidc_name=request.app.state.oidc_name, **context)


def start_session(request: Request, account: Account) -> str:
    """Sign ``account`` in on a fresh session (a planted one is worth nothing); the page to land on."""
    request.session.clear()
    request.session["user"] = account.username
    return "/portal/admin" if account.role == "admin" else "/portal/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
def login(request: Request, csrf: Csrf, username: Annotated[str, Form()], password: Annotated[str, Form()]) -> Response:
    _check_csrf(request, csrf)
    account = _portal(request).accounts.authenticate(username, password)
    if account is None:
        return _login_page(request, 401, error="Wrong user name or password.")
    return _see_other(start_session(request, account))


@router.post("/logout")
def logout(request: Request, csrf: Csrf) -> Response:
    _check_csrf(request, csrf)
    request.session.clear()
    return _see_other("/portal/login")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, account: Annotated[Account, Depends(_signed_in)]) -> Response:
    if account.role == "admin":
        return _see_other("/portal/admin")
    person = _person(account)
    context = _home_context(request, person)
    _portal(request).audit.record(person.username, "read_sessions", person.contributor_id, count=len(context["sessions"]))
    return _page(request, "home.html", **context)


@router.post("/consent/{action}")
def change_consent(
    request: Request, action: str, person: Person, csrf: Csrf,
    notice_version: Annotated[int | None, Form()] = None, agree: Annotated[str | None, Form()] = None,
) -> Response:
    _check_csrf(request, csrf)
    registry = _portal(request).consent
    contributor = person.contributor_id
    assert contributor is not None
    try:
        if action == "grant":
            if agree != "yes" or notice_version is None:
                raise ValueError("consent needs the box ticked for the notice shown")
            registry.grant(contributor, notice_version)
        elif action in ("pause", "resume", "revoke"):
            getattr(registry, action)(contributor)
        else:
            raise HTTPException(404, f"no consent action {action!r}")
    except ValueError as exc:
        return _page(request, "home.html", 400, error=str(exc), **_home_context(request, person))
    return _see_other("/portal/")


def _home_context(request: Request, person: Account) -> dict[str, Any]:
    """What the person's home page shows: consent, the notice, the actions open to them, sessions."""
    portal = _portal(request)
    version, notice = portal.consent.notice()
    status = portal.consent.status(person.contributor_id)  # type: ignore[arg-type]
    actions = {ConsentState.ACTIVE: ["pause", "revoke"], ConsentState.PAUSED: ["resume", "revoke"]}
    return {
        "status": status, "notice": notice, "notice_version": version,
        "actions": actions.get(status.state, []) if status.state else [],  # type: ignore[call-overload]
        "sessions": portal.store.sessions(contributor_id=person.contributor_id),
    }


def _own_session(request: Request, person: Account, session_id: str) -> None:
    info = _portal(request).store.session(session_id)
    if info is None or info.contributor_id != person.contributor_id:
        raise HTTPException(404, "no such session")


@dataclass(frozen=True)
class Step:
    time: str
    text: str
    screenshot: str | None = None


def replay_steps(events: list[Event]) -> list[Step]:
    """The session as a timeline of actions, each with the screenshot taken at its boundary."""
    steps: list[Step] = []
    start = events[0].ts if events else 0
    for e in events:
        if isinstance(e, Screenshot):
            if steps and steps[-1].screenshot is None:
                steps[-1] = Step(steps[-1].time, steps[-1].text, e.blob)
            continue
        text = _describe(e)
        if text:
            steps.append(Step(f"{(e.ts - start) / 1000:7.2f}s", text))
    return steps


def _describe(e: Event) -> str | None:
    target = getattr(e, "target", None)
    where = (target.name or target.id or target.tag) if target is not None else "the page"
    match e.type:
        case "task_start":
            return f"task: {e.instruction}"  # type: ignore[union-attr]
        case "navigation":
            return f"opened {e.url}"  # type: ignore[union-attr]
        case "click" | "dblclick":
            return f"{e.type} on {where} at ({e.x:.0f}, {e.y:.0f})"  # type: ignore[union-attr]
        case "key_down":
            return f"key {e.key!r} in {where}"  # type: ignore[union-attr]
        case "change":
            return f"set {where} to {'(masked)' if e.masked else repr(e.value)}"  # type: ignore[union-attr]
        case "task_end":
            return f"task ended: {e.outcome}"  # type: ignore[union-attr]
    return None


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def replay(request: Request, session_id: str, person: Person) -> HTMLResponse:
    _own_session(request, person, session_id)
    portal = _portal(request)
    portal.audit.record(person.username, "read_session", person.contributor_id, session=session_id)
    events = list(portal.store.events(session_id))
    return _page(request, "replay.html", session=portal.store.session(session_id), steps=replay_steps(events))


@router.get("/media/{sha}")
def media(request: Request, sha: str, person: Person) -> Response:
    from demoforge.store import BlobError

    try:
        data = _portal(request).store.get_blob(sha, person.contributor_id)
    except BlobError as exc:
        raise HTTPException(404, "no such media") from exc
    return Response(data, media_type="application/json" if data[:1] == b"{" else "image/jpeg",
                    headers={"Cache-Control": "no-store"})


def _delete(request: Request, person: Account, session_ids: list[str]) -> None:
    portal = _portal(request)
    for sid in session_ids:
        erase_session(portal.store, portal.audit, sid, actor=person.username)
    db_url = portal.store.engine.url.render_as_string(hide_password=False)
    rebuild_without(portal.store, db_url, set(session_ids), [config.home()])


@router.post("/sessions/{session_id}/delete")
def delete_session(request: Request, session_id: str, person: Person, csrf: Csrf) -> Response:
    _check_csrf(request, csrf)
    _own_session(request, person, session_id)
    _delete(request, person, [session_id])
    return _see_other("/portal/")


@router.post("/delete-all")
def delete_all(request: Request, person: Person, csrf: Csrf) -> Response:
    _check_csrf(request, csrf)
    _delete(request, person, [s.id for s in _portal(request).store.sessions(contributor_id=person.contributor_id)])
    return _see_other("/portal/")


@router.get("/export")
def export(request: Request, person: Person) -> FileResponse:
    portal = _portal(request)
    fd, name = tempfile.mkstemp(suffix=".zip")
    os.close(fd)
    path = export_person(portal.store, portal.consent, portal.audit, person.contributor_id, Path(name))  # type: ignore[arg-type]
    return FileResponse(path, media_type="application/zip", filename="demoforge-export.zip",
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, admin: Admin, retention: str | None = None) -> HTMLResponse:
    portal = _portal(request)
    try:
        stats, withheld = session_stats(portal.store, portal.audit, admin.username)
    except TooFewContributors:
        stats, withheld = None, 0
    return _page(request, "admin.html", gate=portal.consent.gate(), stats=stats, withheld=withheld, retention=retention)


@router.post("/admin/gate")
def admin_gate(
    request: Request, admin: Admin, csrf: Csrf, purpose: Annotated[str, Form()],
    dpia: Annotated[str, Form()], works_agreement: Annotated[str, Form()],
) -> Response:
    _check_csrf(request, csrf)
    try:
        _portal(request).consent.set_gate(purpose, dpia, works_agreement, admin.username)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return _see_other("/portal/admin")


@router.post("/admin/allow")
def admin_allow(request: Request, admin: Admin, csrf: Csrf, url: Annotated[str, Form()]) -> Response:
    _check_csrf(request, csrf)
    try:
        _portal(request).consent.allow_origin(url, admin.username)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return _see_other("/portal/admin")


@router.post("/admin/retention")
def admin_retention(
    request: Request, admin: Admin, csrf: Csrf,
    max_age_days: Annotated[str, Form()] = "", max_bytes: Annotated[str, Form()] = "",
) -> Response:
    _check_csrf(request, csrf)
    portal = _portal(request)
    try:
        result = enforce(
            portal.store, portal.audit,
            max_age_days=float(max_age_days) if max_age_days else None,
            max_bytes=int(max_bytes) if max_bytes else None,
        )
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    portal.audit.record(admin.username, "enforce_retention", None, expired=result.expired, over_size=result.over_size)
    summary = f"deleted {result.expired} expired and {result.over_size} over-size session(s)"
    return _see_other(f"/portal/admin?retention={summary.replace(' ', '+')}")


def install_portal(
    app: FastAPI, store: Store, *, secret: str | None = None, secure_cookies: bool = True,
    oidc: OidcSettings | None = None,
) -> None:
    """Serve the portal from a collector app made by ``create_app``.

    OIDC sign-in is added when ``oidc`` is given or ``DEMOFORGE_OIDC_*`` configure it.
    """
    audit = AuditLog(store.engine)
    app.state.portal = Portal(store, Accounts(store.engine), ConsentRegistry(store.engine, audit), audit)
    secret = secret or portal_secret()
    app.add_middleware(
        SessionMiddleware, secret_key=secret, session_cookie="demoforge_portal",
        max_age=SESSION_MAX_AGE, same_site="strict", https_only=secure_cookies,
    )
    app.include_router(router)
    oidc = oidc or OidcSettings.from_env()
    app.state.oidc_name = oidc.provider_name if oidc else None
    if oidc is not None:
        from demoforge.collect.portal_oidc import install_oidc  # it builds on this module's sessions

        install_oidc(app, oidc, secret=secret, secure_cookies=secure_cookies)
