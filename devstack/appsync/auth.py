"""Who is calling: API key, local user-pool tokens, IAM (SigV4), and the `@aws_*` directive rules.

AppSync rules reproduced: a field's own auth directives decide; without any, its type's directives
decide; without those, the API's default mode (Cognito user pools here) does. Directives name modes
only: `cognito_groups` arguments are not checked (README.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import jwt
from graphql import GraphQLField, GraphQLObjectType

from devstack.appsync.errors import AuthenticationError

API_KEY = "API_KEY"
USER_POOL = "AMAZON_COGNITO_USER_POOLS"
IAM = "AWS_IAM"
DEFAULT_MODE = USER_POOL

# What `util.authType()` returns for each mode (AppSync resolver utility reference).
AUTH_TYPE_NAMES = {
    API_KEY: "API Key Authorization",
    USER_POOL: "User Pool Authorization",
    IAM: "IAM Authorization",
}
DIRECTIVE_MODES = {"aws_api_key": API_KEY, "aws_cognito_user_pools": USER_POOL, "aws_iam": IAM}

TOKEN_ISSUER = "local-appsync"
TOKEN_LIFETIME_S = 12 * 3600
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
MAX_CLOCK_SKEW_S = 300  # SigV4 requests older or newer than this are refused, as AWS does
# The role the local stack's backends (seed, smoke, ops scripts) sign as: the stand-in for the roles the
# api module's `iam_caller_role_arns` lists, and the only one the local endpoint allows by default.
LOCAL_BACKEND_ROLE = "appsync-cqrs-local-backend"


@dataclass(frozen=True)
class LocalRole:
    """Whom a local access key stands for: a role assumed under a session, as AppSync reports it.

    `identity_pool_id` makes the key a Cognito identity pool's credentials (AppSync then fills
    `cognitoIdentityPoolId`); tests use it, the local stack never issues such keys.
    """

    role_name: str = LOCAL_BACKEND_ROLE
    session_name: str = "local"
    identity_pool_id: str | None = None


@dataclass(frozen=True)
class AuthConfig:
    """What the endpoint accepts."""

    token_secret: str
    api_key: str | None = None
    iam_credentials: Mapping[str, str] = field(default_factory=dict)  # access key id → secret key
    # access key id → the role it stands for; a key not listed is LOCAL_BACKEND_ROLE.
    iam_roles: Mapping[str, LocalRole] = field(default_factory=dict)
    # The roles resolvers admit (ctx.env.IAM_CALLER_ROLES), as the api module's allow-list does.
    allowed_iam_roles: tuple[str, ...] = (LOCAL_BACKEND_ROLE,)

    def iam_caller_roles(self) -> str:
        """`ctx.env.IAM_CALLER_ROLES`: space-separated `<account>:<role name>`, as the api module has it."""
        return " ".join(f"{LOCAL_ACCOUNT_ID}:{role}" for role in self.allowed_iam_roles)


@dataclass(frozen=True)
class Caller:
    """An authenticated request: its mode and the `ctx.identity` AppSync would give resolvers."""

    mode: str
    identity: dict[str, Any] | None

    @property
    def auth_type(self) -> str:
        return AUTH_TYPE_NAMES[self.mode]


def local_sub(username: str) -> str:
    """A stable `sub` for a local user (Cognito subs are UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"local-appsync:user:{username}"))


def issue_token(username: str, secret: str, lifetime_s: int = TOKEN_LIFETIME_S) -> str:
    """A local user-pool ID token (HS256 JWT) for `username`."""
    now = int(time.time())
    claims = {
        "sub": local_sub(username),
        "cognito:username": username,
        "iss": TOKEN_ISSUER,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + lifetime_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def _user_pool_caller(token: str, secret: str, source_ip: str) -> Caller:
    try:
        claims = jwt.decode(
            token.removeprefix("Bearer ").strip(),
            secret,
            algorithms=["HS256"],
            issuer=TOKEN_ISSUER,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"Valid authorization header not provided: {exc}") from exc
    identity = {
        "sub": claims["sub"],
        "issuer": claims["iss"],
        "username": claims.get("cognito:username", claims["sub"]),
        "claims": claims,
        "sourceIp": [source_ip],
        "defaultAuthStrategy": "ALLOW",
        "groups": claims.get("cognito:groups"),
    }
    return Caller(USER_POOL, identity)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _parse_sigv4(header: str) -> dict[str, str]:
    parts = {}
    for item in header.removeprefix("AWS4-HMAC-SHA256").split(","):
        key, _, value = item.strip().partition("=")
        parts[key] = value
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        raise AuthenticationError(
            "Authorization header is not a SigV4 header", "IncompleteSignatureException"
        )
    return parts


def _iam_caller(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    config: AuthConfig,
    source_ip: str,
) -> Caller:
    parts = _parse_sigv4(headers["authorization"])
    access_key, date, region, service, terminator = (parts["Credential"].split("/") + [""] * 5)[:5]
    if service != "appsync" or terminator != "aws4_request":
        raise AuthenticationError(
            "Credential should be scoped to the appsync service", "InvalidSignatureException"
        )
    secret = config.iam_credentials.get(access_key)
    if secret is None:
        raise AuthenticationError("The security token included in the request is invalid.")
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise AuthenticationError("X-Amz-Date is missing or malformed", "InvalidSignatureException") from exc
    if abs((dt.datetime.now(dt.UTC) - signed_at).total_seconds()) > MAX_CLOCK_SKEW_S:
        raise AuthenticationError("Signature expired", "InvalidSignatureException")
    signed = parts["SignedHeaders"].split(";")
    if "host" not in signed:
        raise AuthenticationError("SignedHeaders must include host", "InvalidSignatureException")
    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed)
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(parse_qsl(query, keep_blank_values=True))
    )
    # The hash of the body received, never the client's claim: a signature over a claimed hash would let
    # anyone who saw one signed request replay its headers with a body of their own.
    payload_hash = hashlib.sha256(body).hexdigest()
    claimed = headers.get("x-amz-content-sha256")
    if claimed is not None and not hmac.compare_digest(claimed.lower(), payload_hash):
        raise AuthenticationError(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            "InvalidSignatureException",
        )
    canonical_request = "\n".join(
        [
            method,
            quote(path, safe="/-_.~"),
            canonical_query,
            canonical_headers,
            ";".join(signed),
            payload_hash,
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["Signature"]):
        raise AuthenticationError(
            "The request signature we calculated does not match the signature you provided.",
            "InvalidSignatureException",
        )
    return Caller(IAM, role_identity(config.iam_roles.get(access_key, LocalRole()), source_ip))


def role_identity(role: LocalRole, source_ip: str) -> dict[str, Any]:
    """`ctx.identity` of a caller signing as `role`, shaped as AppSync reports an assumed role: the STS
    session ARN without the role's path, `username` the role id and session (FACTS: AppSync identity)."""
    role_id = "AROA" + hashlib.sha256(role.role_name.encode()).hexdigest()[:17].upper()
    pool = role.identity_pool_id
    return {
        "accountId": LOCAL_ACCOUNT_ID,
        "userArn": f"arn:aws:sts::{LOCAL_ACCOUNT_ID}:assumed-role/{role.role_name}/{role.session_name}",
        "username": f"{role_id}:{role.session_name}",
        "sourceIp": [source_ip],
        "cognitoIdentityPoolId": pool,
        "cognitoIdentityId": f"{pool.split(':')[0]}:{uuid.uuid5(uuid.NAMESPACE_URL, role.session_name)}"
        if pool
        else None,
        "cognitoIdentityAuthType": "authenticated" if pool else None,
        "cognitoIdentityAuthProvider": None,
    }


def authenticate(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    config: AuthConfig,
    source_ip: str = "127.0.0.1",
) -> Caller:
    """The caller of one HTTP request (`headers` with lower-case names), or AuthenticationError."""
    authorization = headers.get("authorization")
    if authorization and authorization.startswith("AWS4-HMAC-SHA256"):
        return _iam_caller(method, path, query, headers, body, config, source_ip)
    if authorization:
        return _user_pool_caller(authorization, config.token_secret, source_ip)
    api_key = headers.get("x-api-key")
    if api_key is not None:
        if config.api_key is None or not hmac.compare_digest(api_key, config.api_key):
            raise AuthenticationError("You are not authorized to make this call.")
        return Caller(API_KEY, None)
    raise AuthenticationError("Valid authorization header not provided.")


def _modes(directives: Any) -> set[str]:
    return {DIRECTIVE_MODES[d.name.value] for d in directives or () if d.name.value in DIRECTIVE_MODES}


def allowed_modes(parent: GraphQLObjectType, field_def: GraphQLField) -> set[str]:
    """The auth modes that may resolve this field."""
    field_modes = _modes(field_def.ast_node.directives if field_def.ast_node else None)
    if field_modes:
        return field_modes
    type_modes = _modes(parent.ast_node.directives if parent.ast_node else None)
    return type_modes or {DEFAULT_MODE}
