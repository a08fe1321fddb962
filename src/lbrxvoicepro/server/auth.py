"""Who is calling: JWT bearer tokens (HS256) or API keys, each carrying one role.

Roles are ordered: ``user`` < ``collector`` < ``admin``; an endpoint names the least role it
needs. API keys are stored only as SHA-256 hashes, in a JSON file written atomically.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jwt

from lbrxvoicepro.config import ServerSettings
from lbrxvoicepro.errors import ConfigError, LbrxError

Role = Literal["user", "collector", "admin"]
ROLES: tuple[Role, ...] = ("user", "collector", "admin")
KEY_PREFIX = "lbrx_"
FORWARDING = "lbrx-forwarding"
"""The subject of the tokens an API process calls its workers with (signed with the shared
``server.jwt_secret``, which can mint any token anyway): the workers do not rate-limit them,
since the API has already limited the callers whose work they carry."""


class AuthError(LbrxError):
    """Missing, malformed, expired or wrongly signed credentials (HTTP 401)."""


class Forbidden(LbrxError):
    """Valid credentials whose role is not enough (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    via: Literal["jwt", "api-key", "anonymous"]

    def allows(self, needed: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(needed)


def issue_token(settings: ServerSettings, subject: str, role: Role, ttl_s: int = 3600) -> str:
    if not settings.jwt_secret:
        raise ConfigError("set server.jwt_secret (LBRX_SERVER__JWT_SECRET) to issue tokens")
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def verify_token(settings: ServerSettings, token: str) -> Principal:
    if not settings.jwt_secret:
        raise AuthError("bearer tokens are not accepted: the server has no jwt_secret")
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise AuthError("token expired") from error
    except jwt.InvalidTokenError as error:
        raise AuthError(f"invalid token: {error}") from error
    role = claims.get("role")
    if role not in ROLES:
        raise AuthError(f"invalid token: unknown role {role!r}")
    return Principal(str(claims["sub"]), role, "jwt")


class KeyStore:
    """API keys: ``lbrx_<id>_<secret>``; the file holds each id's role and secret hash."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[float, dict[str, dict[str, str]]] | None = None

    def create(self, role: Role, name: str = "") -> str:
        key_id, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
        keys = self._read()
        keys[key_id] = {"role": role, "name": name, "hash": _hash(secret), "created": _now()}
        self._write(keys)
        return f"{KEY_PREFIX}{key_id}_{secret}"

    def verify(self, key: str) -> Principal:
        parts = key.removeprefix(KEY_PREFIX).split("_", 1)
        entry = (
            self._read().get(parts[0]) if key.startswith(KEY_PREFIX) and len(parts) == 2 else None
        )
        if entry is None or not hmac.compare_digest(entry["hash"], _hash(parts[1])):
            raise AuthError("invalid API key")
        return Principal(f"key:{parts[0]}", entry["role"], "api-key")  # type: ignore[arg-type]

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            modified = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache is None or self._cache[0] != modified:
            self._cache = (modified, json.loads(self.path.read_text(encoding="utf-8"))["keys"])
        return dict(self._cache[1])

    def _write(self, keys: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".keys.")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"keys": keys}, handle, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)
        self._cache = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
