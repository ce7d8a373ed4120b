"""A real SAML 2.0 Identity Provider for the single sign-on tests: pysaml2's ``Server`` (it
signs with the ``xmlsec1`` binary) behind a small threaded WSGI app on its own port, with its
own RSA key and self-signed certificate.

It speaks the standard web-browser SSO profile, SP-initiated:

- ``GET /metadata``: the IdP's metadata (entity ID, signing certificate, SingleSignOnService
  for the HTTP-Redirect and HTTP-POST bindings).
- ``GET /sso/redirect`` (HTTP-Redirect) and ``POST /sso/post`` (HTTP-POST): an AuthnRequest,
  parsed and checked by ``Server.parse_authn_request``; the answer is a login page.
- ``POST /login``: the login form. The right password answers with an auto-submitting form
  that POSTs a SAMLResponse (and the RelayState) to the SP's ACS URL; a wrong one shows the
  login page again with "Wrong username or password".

Modes for negative tests (``set_mode``), each still a well-formed response:

- ``ok``: signed assertion inside a signed response, valid for 5 minutes from now, audience
  the SP's entity ID.
- ``unsigned``: neither the response nor the assertion is signed.
- ``expired``: signed, but the assertion's instants (IssueInstant, AuthnInstant, NotBefore,
  NotOnOrAfter of the Conditions and of the SubjectConfirmationData) are shifted 2 hours
  into the past, before signing, so the signature is valid over the old times. The
  Response's own IssueInstant stays now: a fresh response carrying a stale assertion.
- ``wrong_audience``: signed, for the audience ``https://not-keel.example/sp``.

The SP is known only from metadata this module writes from its entity ID and ACS URL; its
certificate is not needed, since Keel's AuthnRequests are unsigned (a Redirect-binding
signature, if one is sent, is ignored).
"""

import base64
import datetime as dt
import html
import logging
import secrets
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

# pysaml2 builds its XML schemas on import (xmlschema logs each one at INFO) and still names
# cryptography's CFB mode (deprecated since cryptography 46): both kept quiet.
logging.getLogger("xmlschema").setLevel(logging.WARNING)
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="CFB has been moved", module="saml2")
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.assertion import Policy
    from saml2.attribute_converter import AttributeConverter
    from saml2.config import IdPConfig
    from saml2.metadata import entity_descriptor
    from saml2.saml import (
        NAME_FORMAT_BASIC,
        NAMEID_FORMAT_EMAILADDRESS,
        NAMEID_FORMAT_UNSPECIFIED,
        Assertion,
        NameID,
    )
    from saml2.samlp import AuthnRequest
    from saml2.server import Server
    from saml2.time_util import TIME_FORMAT
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

PASSWORD_PROTECTED_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MODES = ("ok", "unsigned", "expired", "wrong_audience")
WRONG_AUDIENCE = "https://not-keel.example/sp"
LIFETIME = dt.timedelta(minutes=5)
EXPIRED_SHIFT = dt.timedelta(hours=-2)
# The attribute names the SP sees, unchanged (NameFormat basic, FriendlyName the same).
ATTRIBUTES = ("email", "givenName", "sn", "uid", "groups")


@dataclass(frozen=True)
class _User:
    """A user the IdP can sign in, and the attributes it releases for them."""

    username: str
    password: str
    email: str
    given_name: str
    family_name: str
    groups: tuple[str, ...]

    def identity(self) -> dict[str, list[str]]:
        """The attribute statement's values; empty attributes are left out, as IdPs do."""
        values = {
            "email": [self.email],
            "givenName": [self.given_name],
            "sn": [self.family_name],
            "uid": [self.username],
            "groups": list(self.groups),
        }
        return {name: [v for v in vals if v] for name, vals in values.items() if any(vals)}


@dataclass(frozen=True)
class _Pending:
    """An AuthnRequest waiting for its user to sign in."""

    request_id: str
    relay_state: str


class _ResponsePolicy(Policy):
    """pysaml2's release policy for one response, which is where pysaml2 takes the
    assertion's times and audience from: a 5-minute window starting at ``now + shift``, and
    the given audience."""

    def __init__(self, restrictions, mds, *, shift: dt.timedelta, audience: str):
        super().__init__(restrictions, mds=mds)
        self.audience = audience
        self.now = dt.datetime.now(dt.UTC) + shift

    def at(self, delta: dt.timedelta = dt.timedelta()) -> str:
        """An instant of this response, as SAML writes it."""
        return (self.now + delta).strftime(TIME_FORMAT)

    def not_on_or_after(self, sp_entity_id):
        """End of the Conditions and of the SubjectConfirmationData."""
        return self.at(LIFETIME)

    def conditions(self, sp_entity_id):
        """Conditions: NotBefore, NotOnOrAfter and the AudienceRestriction."""
        conditions = super().conditions(sp_entity_id)
        conditions.not_before = self.at()
        conditions.audience_restriction[0].audience[0].text = self.audience
        return conditions


class _Server(Server):
    """pysaml2's IdP server; the assertion's IssueInstant follows the release policy's clock
    too (pysaml2 stamps it with the real time and has no argument for it). It is set on the
    assertion object, before anything is signed."""

    def setup_assertion(
        self, authn, sp_entity_id, in_response_to, consumer_url, name_id, policy, *args, **kwargs
    ):
        assertion = super().setup_assertion(
            authn, sp_entity_id, in_response_to, consumer_url, name_id, policy, *args, **kwargs
        )
        if isinstance(policy, _ResponsePolicy) and isinstance(assertion, Assertion):
            assertion.issue_instant = policy.at()
        return assertion


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler without the access log (errors are still logged)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


def _key_and_certificate(directory: Path, common_name: str) -> tuple[Path, Path, str]:
    """An RSA 2048 key and a self-signed SHA-256 certificate for it, written as PEM files
    (pysaml2 and xmlsec1 read files). Returns (key path, certificate path, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "idp.key", directory / "idp.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    cert_path.write_text(cert_pem)
    return key_path, cert_path, cert_pem


def _sp_metadata(entity_id: str, acs_url: str) -> str:
    """Metadata for the SP, as its administrator would hand it to the IdP: entity ID, an
    HTTP-POST AssertionConsumerService and the NameID formats; no certificate."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    entityID={quoteattr(entity_id)}>
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>{NAMEID_FORMAT_EMAILADDRESS}</md:NameIDFormat>
    <md:NameIDFormat>{NAMEID_FORMAT_UNSPECIFIED}</md:NameIDFormat>
    <md:AssertionConsumerService index="0" isDefault="true"
        Binding="{BINDING_HTTP_POST}" Location={quoteattr(acs_url)}/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


def _attribute_converter() -> AttributeConverter:
    """Attribute names go out as they are (NameFormat basic): pysaml2's default maps would
    turn ``email`` into ``urn:oid:0.9.2342.19200300.100.1.3`` and so on."""
    converter = AttributeConverter(NAME_FORMAT_BASIC)
    converter.from_dict({"identifier": NAME_FORMAT_BASIC, "to": {a: a for a in ATTRIBUTES}})
    return converter


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )


class SamlIdP:
    """The IdP. Its port is bound and its key made on construction, so ``url``,
    ``entity_id`` and the certificate are known before ``start()``."""

    def __init__(self, *, sp_entity_id: str, acs_url: str, host: str = "127.0.0.1", port: int = 0):
        self.sp_entity_id = sp_entity_id
        self.acs_url = acs_url
        self.mode = "ok"
        self._users: dict[str, _User] = {}
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()  # users and pending requests
        # pysaml2's Server is not documented as thread-safe: one request at a time in it.
        self._saml_lock = threading.Lock()

        self._server = make_server(
            host, port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://{host}:{self._server.server_port}"
        self.entity_id = f"{self.url}/metadata"
        self.metadata_url = f"{self.url}/metadata"
        self.sso_url = f"{self.url}/sso/redirect"
        self.sso_post_url = f"{self.url}/sso/post"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

        self._dir = Path(tempfile.mkdtemp(prefix="keel-saml-idp-"))
        key_path, cert_path, self.certificate_pem = _key_and_certificate(
            self._dir, "Keel test SAML IdP"
        )
        self.certificate_b64 = "".join(
            line for line in self.certificate_pem.splitlines() if not line.startswith("-----")
        )
        self._saml = _Server(config=self._config(key_path, cert_path))
        descriptor = entity_descriptor(self._saml.config)
        # pysaml2 adds an <md:Extensions> listing every algorithm xmlsec1 knows (MD5 too); it
        # is optional, and this IdP uses RSA-SHA256 only.
        descriptor.extensions = None
        self.metadata_xml = str(descriptor)

    def _config(self, key_path: Path, cert_path: Path) -> IdPConfig:
        xmlsec = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": xmlsec,
                "key_file": str(key_path),
                "cert_file": str(cert_path),
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "metadata": {"inline": [_sp_metadata(self.sp_entity_id, self.acs_url)]},
                "service": {
                    "idp": {
                        "name": "Keel test SAML IdP",
                        "endpoints": {
                            "single_sign_on_service": [
                                (self.sso_url, BINDING_HTTP_REDIRECT),
                                (self.sso_post_url, BINDING_HTTP_POST),
                            ]
                        },
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_UNSPECIFIED],
                        "want_authn_requests_signed": False,
                    }
                },
            }
        )
        config.attribute_converters = [_attribute_converter()]
        return config

    # --- control -------------------------------------------------------------------------
    def set_user(
        self,
        username: str,
        *,
        password: str,
        email: str,
        given_name: str = "",
        family_name: str = "",
        groups: list[str] = (),
    ) -> None:
        """Create or replace a user the IdP can sign in."""
        user = _User(username, password, email, given_name, family_name, tuple(groups))
        with self._lock:
            self._users[username] = user

    def set_mode(self, mode: str) -> None:
        """Choose how the next responses are made: one of ``MODES``."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        self.mode = mode

    def start(self) -> "SamlIdP":
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the key files."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)

    # --- WSGI ----------------------------------------------------------------------------
    def _wsgi(self, environ, start_response):
        request = Request(environ)
        routes = {
            ("GET", "/metadata"): self._metadata,
            ("GET", "/sso/redirect"): lambda r: self._sso(r, r.args, BINDING_HTTP_REDIRECT),
            ("POST", "/sso/post"): lambda r: self._sso(r, r.form, BINDING_HTTP_POST),
            ("POST", "/login"): self._login,
        }
        handler = routes.get((request.method, request.path))
        if handler is None:
            known = any(path == request.path for _, path in routes)
            response = _text(405 if known else 404, "Method not allowed" if known else "Not found")
        else:
            response = handler(request)
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def _metadata(self, request: Request) -> Response:
        return Response(self.metadata_xml, mimetype="application/samlmetadata+xml")

    def _sso(self, request: Request, params, binding: str) -> Response:
        """An AuthnRequest: check it, keep its ID and RelayState, show the login page."""
        saml_request = params.get("SAMLRequest")
        if not saml_request:
            return _text(400, "SAMLRequest is missing")
        try:
            with self._saml_lock:
                parsed = self._saml.parse_authn_request(saml_request, binding)
        except Exception as exc:  # pysaml2 raises many kinds; any of them is a bad request
            return _text(400, f"Invalid AuthnRequest: {type(exc).__name__}: {exc}")
        if parsed is None:
            return _text(400, "Invalid AuthnRequest")
        message: AuthnRequest = parsed.message
        problem = self._check_request(message)
        if problem:
            return _text(400, f"Invalid AuthnRequest: {problem}")
        key = secrets.token_urlsafe(24)
        with self._lock:
            self._pending[key] = _Pending(message.id, params.get("RelayState", ""))
        return self._login_page(key)

    def _check_request(self, message: AuthnRequest) -> str:
        """What pysaml2 does not check: the request comes from our SP and asks for its ACS."""
        issuer = message.issuer.text.strip() if message.issuer is not None else ""
        if issuer != self.sp_entity_id:
            return f"unknown issuer {issuer!r}"
        acs = message.assertion_consumer_service_url
        if acs and acs != self.acs_url:
            return f"AssertionConsumerServiceURL {acs!r} is not the SP's"
        if message.protocol_binding and message.protocol_binding != BINDING_HTTP_POST:
            return f"unsupported ProtocolBinding {message.protocol_binding!r}"
        return ""

    def _login_page(self, key: str, *, error: str = "", username: str = "") -> Response:
        alert = f'<p role="alert">{html.escape(error)}</p>\n' if error else ""
        body = (
            "<h1>Keel test IdP</h1>\n"
            f"<p>Sign in to {html.escape(self.sp_entity_id)}</p>\n{alert}"
            '<form method="post" action="/login">\n'
            f'<input type="hidden" name="key" value="{html.escape(key)}">\n'
            '<p><label for="username">Username</label>\n'
            '<input id="username" name="username" autocomplete="username" required autofocus'
            f' value="{html.escape(username)}"></p>\n'
            '<p><label for="password">Password</label>\n'
            '<input id="password" name="password" type="password"'
            ' autocomplete="current-password" required></p>\n'
            '<button type="submit">Sign in</button>\n</form>'
        )
        return Response(_page("Sign in", body), mimetype="text/html")

    def _login(self, request: Request) -> Response:
        """The login form: on the right password, the Response for the kept request."""
        key = request.form.get("key", "")
        username = request.form.get("username", "")
        with self._lock:
            pending = self._pending.get(key)
            user = self._users.get(username)
        if pending is None:
            return _text(400, "Unknown or used sign-in request; start again from the SP")
        if user is None or not secrets.compare_digest(
            user.password.encode(), request.form.get("password", "").encode()
        ):
            return self._login_page(key, error="Wrong username or password", username=username)
        with self._lock:
            if self._pending.pop(key, None) is None:  # another thread answered it first
                return _text(400, "Unknown or used sign-in request; start again from the SP")
        saml_response = self._authn_response(user, pending.request_id)
        return self._post_to_acs(saml_response, pending.relay_state)

    def _authn_response(self, user: _User, in_response_to: str) -> str:
        """The base64 SAMLResponse for ``user``, made as the current mode says."""
        mode = self.mode
        signed = mode != "unsigned"
        policy = _ResponsePolicy(
            {"default": {"name_form": NAME_FORMAT_BASIC}},
            self._saml.metadata,
            shift=EXPIRED_SHIFT if mode == "expired" else dt.timedelta(),
            audience=WRONG_AUDIENCE if mode == "wrong_audience" else self.sp_entity_id,
        )
        with self._saml_lock:
            response = self._saml.create_authn_response(
                user.identity(),
                in_response_to=in_response_to,
                destination=self.acs_url,
                sp_entity_id=self.sp_entity_id,
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=user.email),
                userid=user.username,
                authn={
                    "class_ref": PASSWORD_PROTECTED_TRANSPORT,
                    "authn_instant": int(policy.now.timestamp()),
                },
                release_policy=policy,
                sign_assertion=signed,
                sign_response=signed,
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
        return base64.b64encode(str(response).encode("utf-8")).decode("ascii")

    def _post_to_acs(self, saml_response: str, relay_state: str) -> Response:
        """The page that POSTs the Response to the SP's ACS: by script, or by hand."""
        relay = (
            f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">\n'
            if relay_state
            else ""
        )
        body = (
            f'<form method="post" action="{html.escape(self.acs_url)}">\n'
            f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}">\n'
            f"{relay}"
            "<noscript><p>Press Continue to go back to the application.</p>\n"
            '<button type="submit">Continue</button></noscript>\n</form>\n'
            "<script>document.forms[0].submit();</script>"
        )
        return Response(_page("Signing in…", body), mimetype="text/html")


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")
