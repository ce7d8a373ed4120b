"""A real OpenID Connect provider for the single sign-on tests: oidc-provider-mock (Authlib's
authorization server on Flask, RS256-signed ID tokens, discovery, JWKS, userinfo, one-time
codes, nonce) served on its own port, with two things added in front of it:

- **PKCE is enforced**: an authorization request without an S256 ``code_challenge`` is
  refused, and the token request must carry the matching ``code_verifier``
  (RFC 7636 §4.6), so a client that dropped PKCE fails here.
- **Modes for negative tests**: ``wrong_audience`` re-signs the ID token (with the
  provider's own key) for another client; ``drop_nonce`` re-signs it without its nonce.
"""

import base64
import hashlib
import io
import json
import os
import threading
from urllib.parse import parse_qs, urlsplit

import flask
import jwt
import requests
import werkzeug.serving
from oidc_provider_mock import app as provider_app

# Authlib refuses plain http unless told it is a test.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcProvider:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.flask_app = provider_app(require_nonce=True)
        self.mode = "ok"
        self.challenges: dict[str, str] = {}  # code -> code_challenge
        self.token_requests: list[dict] = []
        self._lock = threading.Lock()
        self._server = werkzeug.serving.make_server(host, port, self._wsgi, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- the provider's key, for re-signing in the negative modes -----------------------
    def _private_key(self):
        with self.flask_app.test_request_context():
            self.flask_app.preprocess_request()
            return flask.g.oidc_provider_mock_storage.jwk

    def _resign(self, id_token: str) -> str:
        claims = jwt.decode(id_token, options={"verify_signature": False})
        if self.mode == "wrong_audience":
            claims["aud"] = "another-application"
        elif self.mode == "drop_nonce":
            claims.pop("nonce", None)
        key = self._private_key()
        return jwt.encode(
            claims,
            jwt.PyJWK(key.as_dict(is_private=True)).key,
            algorithm="RS256",
            headers={"kid": key.as_dict().get("kid")},
        )

    # --- WSGI front ----------------------------------------------------------------------
    def _wsgi(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            challenge = (query.get("code_challenge") or [""])[0]
            method = (query.get("code_challenge_method") or [""])[0]
            if not challenge or method != "S256":
                return self._error(start_response, "400 Bad Request", "PKCE (S256) is required")
            return self._capture_code(environ, start_response, challenge)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            return self._token(environ, start_response)
        return self.flask_app(environ, start_response)

    def _capture_code(self, environ, start_response, challenge):
        def capture(status, headers, exc_info=None):
            for name, value in headers:
                if name.lower() == "location":
                    code = (parse_qs(urlsplit(value).query).get("code") or [""])[0]
                    if code:
                        with self._lock:
                            self.challenges[code] = challenge
            return start_response(status, headers, exc_info)

        return self.flask_app(environ, capture)

    def _token(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.token_requests.append(form)
        with self._lock:
            challenge = self.challenges.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        if challenge is not None and (not verifier or _s256(verifier) != challenge):
            return self._json(
                start_response,
                "400 Bad Request",
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
            )
        environ["wsgi.input"] = io.BytesIO(body)
        if self.mode == "ok":
            return self.flask_app(environ, start_response)
        captured = {}

        def keep(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return lambda data: None

        chunks = b"".join(self.flask_app(environ, keep))
        if not captured["status"].startswith("200"):
            start_response(captured["status"], captured["headers"])
            return [chunks]
        data = json.loads(chunks)
        data["id_token"] = self._resign(data["id_token"])
        return self._json(start_response, "200 OK", data)

    @staticmethod
    def _json(start_response, status, data):
        body = json.dumps(data).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    @staticmethod
    def _error(start_response, status, message):
        body = message.encode()
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    # --- control -------------------------------------------------------------------------
    def set_user(self, sub: str, **claims) -> None:
        """Create or replace a user and their claims (e.g. ``email``, ``groups``) through
        the provider's own API."""
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def start(self) -> "OidcProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
