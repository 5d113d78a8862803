"""OIDC sign-in to the portal against a real, minimal OpenID provider on a loopback port.

The provider is a small FastAPI app served by uvicorn in a thread: discovery,
a JWKS holding an RSA key made with ``cryptography``, an authorize endpoint
that redirects back with a code, and a token endpoint that checks the client
secret and the PKCE verifier and returns a signed id_token. The portal runs
in ``TestClient``; the browser's hops between the two are made by hand, so
each forged answer can be put in exactly one place.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Header, HTTPException
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from demoforge.collect.app import create_app
from demoforge.collect.portal import install_portal
from demoforge.privacy.accounts import Accounts
from demoforge.privacy.models import OidcLink, PortalAccount
from demoforge.privacy.oidc import OidcSettings
from demoforge.store import Store
from demoforge.store.models import Contributor

CLIENT_ID, CLIENT_SECRET = "demoforge-portal", "provider-issued-secret"
REDIRECT = "http://testserver/portal/oidc/callback"


def _rsa_key(kid: str) -> RSAKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return RSAKey.import_key(pem, {"kid": kid, "use": "sig", "alg": "RS256"})


class Provider:
    """A minimal OpenID provider; ``forge`` changes the next id_tokens' claims, ``signer`` their key."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.key = _rsa_key("k1")
        self.signer = self.key
        self.forge: dict[str, Any] = {}
        self.subject = "alice-at-idp"
        self.codes: dict[str, dict[str, str]] = {}
        self.app = self._app()

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize(
            response_type: str, client_id: str, redirect_uri: str, scope: str, state: str,
            nonce: str, code_challenge: str, code_challenge_method: str,
        ) -> RedirectResponse:
            if (response_type, client_id, redirect_uri, code_challenge_method) != ("code", CLIENT_ID, REDIRECT, "S256"):
                raise HTTPException(400, "bad authorization request")
            assert "openid" in scope.split()
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": nonce, "challenge": code_challenge}
            return RedirectResponse(f"{redirect_uri}?code={code}&state={state}", status_code=302)

        @app.post("/token")
        def token(
            grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(), code_verifier: str = Form(),
            authorization: str = Header(""),
        ) -> dict[str, Any]:
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            grant = self.codes.pop(code, None)
            if authorization != f"Basic {basic}" or grant is None or grant_type != "authorization_code":
                raise HTTPException(400, "invalid_grant")
            digest = hashlib.sha256(code_verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"] or redirect_uri != REDIRECT:
                raise HTTPException(400, "invalid_grant")
            now = int(time.time())
            claims = {"iss": self.issuer, "sub": self.subject, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"]} | self.forge
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.signer)
            return {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300, "id_token": id_token}

        return app


@pytest.fixture(scope="module")
def provider():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = Provider(f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(provider.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield provider
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def portal(demoforge_home, provider):
    provider.forge, provider.signer, provider.subject = {}, provider.key, "alice-at-idp"
    store = Store.open()
    app = create_app(store)
    settings = OidcSettings(provider.issuer, CLIENT_ID, CLIENT_SECRET, REDIRECT, name="Test IdP")
    install_portal(app, store, secret="test-secret", secure_cookies=False, oidc=settings)
    with TestClient(app) as client:
        yield client, store
    store.close()


def _to_provider(client: TestClient) -> httpx.Response:
    """Press "Sign in with ...": the portal's redirect, then the provider's answer (a redirect back)."""
    start = client.get("/portal/oidc/start", follow_redirects=False)
    assert start.status_code == 303
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302 and back.headers["location"].startswith(REDIRECT)
    return back


def _rows(store: Store) -> tuple[int, int, int]:
    with store.engine.connect() as conn:
        return tuple(conn.scalar(select(func.count()).select_from(t)) for t in (Contributor, PortalAccount, OidcLink))  # type: ignore[return-value]


def _signed_in(client: TestClient) -> bool:
    return client.get("/portal/", follow_redirects=False).status_code == 200


def test_sign_in_creates_a_pseudonymous_person_once(portal):
    client, store = portal
    assert "Sign in with Test IdP" in client.get("/portal/login").text
    assert not _signed_in(client)
    before = _rows(store)

    landed = client.get(_to_provider(client).headers["location"])
    assert landed.status_code == 200 and 'url=/portal/"' in landed.text
    assert _signed_in(client)
    assert _rows(store) == tuple(n + 1 for n in before)
    with store.engine.connect() as conn:
        link = conn.execute(select(OidcLink.__table__)).one()
        account = conn.execute(select(PortalAccount.__table__)).one()
    assert (link.subject, account.username, account.role) == ("alice-at-idp", link.username, "person")
    assert "alice" not in account.username and account.contributor_id is not None
    assert Accounts(store.engine).authenticate(account.username, "") is None  # no local password

    client.post("/portal/logout", data={"csrf": client.get("/portal/login").text.split('name="csrf" value="')[1].split('"')[0]})
    assert not _signed_in(client)
    client.get(_to_provider(client).headers["location"])
    assert _signed_in(client)
    assert _rows(store) == tuple(n + 1 for n in before)  # the same account again


def test_off_by_default(demoforge_home, monkeypatch):
    for var in ("DEMOFORGE_OIDC_ISSUER", "DEMOFORGE_OIDC_CLIENT_ID"):
        monkeypatch.delenv(var, raising=False)
    with Store.open() as store:
        app = create_app(store)
        install_portal(app, store, secret="test-secret", secure_cookies=False)
        client = TestClient(app)
        assert "Sign in with" not in client.get("/portal/login").text
        assert client.get("/portal/oidc/start", follow_redirects=False).status_code == 404
    monkeypatch.setenv("DEMOFORGE_OIDC_ISSUER", "https://idp.example")
    with pytest.raises(ValueError, match="DEMOFORGE_OIDC_CLIENT_ID"):
        OidcSettings.from_env()


FORGERIES = {
    "wrong audience": ({"aud": "someone-else"}, False),
    "wrong audience, our azp": ({"aud": ["someone-else"], "azp": CLIENT_ID}, False),
    "expired": ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, False),
    "wrong nonce": ({"nonce": "replayed-nonce"}, False),
    "wrong issuer": ({"iss": "https://evil.example"}, False),
    "bad signature": ({}, True),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_id_token_is_refused(portal, provider, forgery):
    client, store = portal
    provider.forge, other_key = FORGERIES[forgery]
    if other_key:
        provider.signer = _rsa_key("k1")  # same kid, a key the JWKS does not hold
    before = _rows(store)
    answer = client.get(_to_provider(client).headers["location"])
    assert answer.status_code == 401, answer.text
    assert "did not verify" in answer.text
    assert not _signed_in(client) and _rows(store) == before


def test_wrong_state_is_refused(portal):
    client, store = portal
    before = _rows(store)
    back = urlsplit(_to_provider(client).headers["location"])
    code = parse_qs(back.query)["code"][0]
    answer = client.get("/portal/oidc/callback", params={"code": code, "state": "forged"})
    assert answer.status_code == 400
    fresh = TestClient(client.app)  # a browser that never started a sign-in here
    assert fresh.get(f"/portal/oidc/callback?{back.query}").status_code == 400
    assert not _signed_in(client) and _rows(store) == before
