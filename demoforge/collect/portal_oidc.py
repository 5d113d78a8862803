"""OIDC sign-in to the portal: authorization code flow with PKCE, state and nonce (Authlib).

``/portal/oidc/start`` discovers the provider (``/.well-known/openid-configuration``),
keeps state, nonce and the PKCE verifier in a short-lived signed cookie and
sends the browser to the provider. ``/portal/oidc/callback`` checks the state,
swaps the code for tokens, verifies the id_token's signature against the
provider's JWKS and its ``iss``, ``aud``, ``exp`` and ``nonce``, and only then
signs the subject in with the same session local sign-in starts.

The flow cookie is its own, SameSite=Lax: the provider's redirect back is a
cross-site navigation, on which the SameSite=Strict portal session cookie is
not sent. For the same reason the callback lands with a same-origin refresh
rather than a redirect, so the browser sends the fresh session cookie on the
next page.
"""

from __future__ import annotations

import secrets
from html import escape

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc.errors import JoseError

from demoforge.collect.portal import start_session
from demoforge.privacy.oidc import OidcSettings, account_for_subject

FLOW_COOKIE = "demoforge_oidc"
FLOW_PATH = "/portal/oidc"
FLOW_MAX_AGE = 600

router = APIRouter(prefix=FLOW_PATH, include_in_schema=False)


def _client(request: Request) -> StarletteOAuth2App:
    return request.app.state.oidc_client


def _flows(request: Request) -> URLSafeTimedSerializer:
    return request.app.state.oidc_flows


@router.get("/start")
async def start(request: Request) -> RedirectResponse:
    settings: OidcSettings = request.app.state.oidc
    try:
        flow = await _client(request).create_authorization_url(settings.redirect_url)
    except httpx.HTTPError as exc:
        raise HTTPException(502, f"cannot reach the sign-in provider: {exc}") from exc
    response = RedirectResponse(flow.pop("url"), status_code=303)
    response.set_cookie(
        FLOW_COOKIE, _flows(request).dumps(flow), max_age=FLOW_MAX_AGE, path=FLOW_PATH,
        httponly=True, samesite="lax", secure=request.app.state.oidc_secure_cookies,
    )
    return response


@router.get("/callback")
async def callback(request: Request, state: str = "", code: str = "", error: str = "") -> HTMLResponse:
    settings: OidcSettings = request.app.state.oidc
    try:
        flow = _flows(request).loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE)
    except BadSignature:
        raise HTTPException(400, "no sign-in in progress here (or it expired); start again") from None
    if not state or not secrets.compare_digest(state.encode(), flow["state"].encode()):
        raise HTTPException(400, "the sign-in state does not match; start again")
    if error or not code:
        raise HTTPException(401, f"the provider did not sign you in: {error or 'no code'}")
    client = _client(request)
    try:
        token = await client.fetch_access_token(
            redirect_uri=settings.redirect_url, code=code, code_verifier=flow["code_verifier"]
        )
        claims = await client.parse_id_token(token, nonce=flow["nonce"], claims_options=_claims_options(settings))
    except (OAuthError, JoseError, httpx.HTTPError, ValueError) as exc:
        raise HTTPException(401, f"the provider's answer did not verify: {exc}") from exc
    if claims is None:
        raise HTTPException(401, "the provider sent no id_token")
    account = account_for_subject(request.app.state.portal.store.engine, claims["iss"], claims["sub"])
    landing = escape(start_session(request, account))
    response = HTMLResponse(
        f'<!doctype html><meta http-equiv="refresh" content="0;url={landing}"><a href="{landing}">Continue</a>'
    )
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


def _claims_options(settings: OidcSettings) -> dict[str, dict[str, object]]:
    """``iss`` must be the configured issuer and ``aud`` must hold our client id.

    Authlib checks ``exp``, ``nonce`` and ``azp`` itself, but the audience only through ``azp``,
    which a token for another client can carry with our id; hence ``aud`` here too.
    """
    return {
        "iss": {"essential": True, "values": [settings.issuer]},
        "aud": {"essential": True, "values": [settings.client_id]},
    }


def install_oidc(app: FastAPI, settings: OidcSettings, *, secret: str, secure_cookies: bool = True) -> None:
    """Add OIDC sign-in to an app the portal is installed on."""
    oauth = OAuth()
    app.state.oidc = settings
    app.state.oidc_client = oauth.register(
        "oidc", client_id=settings.client_id, client_secret=settings.client_secret,
        server_metadata_url=settings.discovery_url,
        client_kwargs={"scope": "openid", "code_challenge_method": "S256"},
    )
    app.state.oidc_flows = URLSafeTimedSerializer(secret, salt="demoforge-oidc-flow")
    app.state.oidc_secure_cookies = secure_cookies
    app.include_router(router)
