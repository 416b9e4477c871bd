"""`/api/v1/auth/token` and `/api/v1/users`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from helpdesk.api.core import current_api_user, operation
from helpdesk.auth import access, permissions, service
from helpdesk.auth.models import ApiToken, ConsoleSession, Role, User
from helpdesk.auth.throttle import login_throttle
from helpdesk.errors import Unauthorized
from helpdesk.extensions import db

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1000)
    name: str = Field(default="api", max_length=100)


class SkillOut(BaseModel):
    skill: str
    level: int


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    locale: str
    languages: list[str]
    skills: list[SkillOut]
    groups: list[str]
    active: bool


class TokenOut(BaseModel):
    token: str
    user: UserOut


class UserList(BaseModel):
    items: list[UserOut]


GroupName = Annotated[str, Field(max_length=100)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    password: str = Field(min_length=8, max_length=1000)
    name: str | None = Field(default=None, max_length=200)
    role: Role
    locale: str = Field(default="en", pattern="^(en|fr)$")
    skills: dict[str, int] = Field(default_factory=dict)
    languages: list[str] = Field(default_factory=list)
    groups: list[GroupName] = Field(default_factory=list)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    locale: str | None = Field(default=None, pattern="^(en|fr)$")
    active: bool | None = None
    skills: dict[str, int] | None = None
    languages: list[str] | None = None
    groups: list[GroupName] | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1000)


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    skill: str | None = None
    language: str | None = None


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        locale=user.locale,
        languages=list(user.languages or []),
        active=user.active,
        skills=[SkillOut(skill=s.skill, level=s.level) for s in user.skills],
        groups=[g.name for g in user.groups],
    )


@operation(
    bp,
    "/auth/token",
    "POST",
    summary="Exchange an e-mail and password for a bearer token",
    roles=None,
    body=TokenRequest,
    response=TokenOut,
    status=201,
    tag="auth",
    decorators=[login_throttle],
    errors={401: "wrong e-mail or password, or the account is disabled"},
)
def create_token(body: TokenRequest) -> TokenOut:
    user = service.authenticate(session=db.session, email=body.email, password=body.password)
    if user is None:
        raise Unauthorized("wrong e-mail or password")
    token = service.issue_token(session=db.session, user=user, name=body.name)
    return TokenOut(token=token, user=user_out(user))


@operation(
    bp,
    "/auth/token",
    "DELETE",
    summary="Revoke the token used for this request",
    status=204,
    tag="auth",
)
def revoke_token() -> Response:
    current_api_user()
    token = request.headers["Authorization"].partition(" ")[2].strip()
    service.revoke_token(session=db.session, token=token)
    return Response(status=204)


@operation(
    bp, "/users", "GET", summary="List staff users", query=UserQuery, response=UserList, tag="users"
)
def list_users(query: UserQuery) -> UserList:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from helpdesk.auth.models import AgentSkill

    stmt = (
        select(User)
        .options(selectinload(User.skills), selectinload(User.groups))
        .order_by(User.name)
    )
    if query.role:
        stmt = stmt.where(User.role == query.role)
    if query.skill:
        stmt = stmt.where(
            User.id.in_(select(AgentSkill.user_id).where(AgentSkill.skill == query.skill.lower()))
        )
    users = list(db.session.scalars(stmt))
    if query.language:
        users = [u for u in users if query.language.lower() in (u.languages or [])]
    return UserList(items=[user_out(u) for u in users])


@operation(bp, "/users/me", "GET", summary="The authenticated user", response=UserOut, tag="users")
def me() -> UserOut:
    return user_out(current_api_user())


@operation(bp, "/users/<int:user_id>", "GET", summary="One user", response=UserOut, tag="users")
def get_user(user_id: int) -> UserOut:
    return user_out(service.get_user(session=db.session, user_id=user_id))


@operation(
    bp,
    "/users",
    "POST",
    summary="Create a user (admin)",
    roles=permissions.ADMINISTER,
    body=UserCreate,
    response=UserOut,
    status=201,
    tag="users",
)
def create_user(body: UserCreate) -> UserOut:
    user = service.create_user(
        session=db.session,
        email=str(body.email),
        password=body.password,
        role=body.role,
        name=body.name,
        skills=service.parse_skills(body.skills),
        languages=body.languages,
        locale=body.locale,
        groups=body.groups,
    )
    return user_out(user)


@operation(
    bp,
    "/users/<int:user_id>",
    "PATCH",
    summary="Change a user (admin)",
    roles=permissions.ADMINISTER,
    body=UserUpdate,
    response=UserOut,
    tag="users",
    errors={409: "the last active administrator cannot be demoted or deactivated"},
)
def update_user(user_id: int, body: UserUpdate) -> UserOut:
    user = service.get_user(session=db.session, user_id=user_id)
    user = service.update_user(
        session=db.session,
        user=user,
        name=body.name,
        role=body.role,
        locale=body.locale,
        active=body.active,
        languages=body.languages,
        password=body.password,
        skills=service.parse_skills(body.skills) if body.skills is not None else None,
        groups=body.groups,
    )
    return user_out(user)


# -- sign-ins an administrator can see and end --------------------------------------------------


class ApiTokenOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiTokenList(BaseModel):
    items: list[ApiTokenOut]


class ConsoleSessionOut(BaseModel):
    id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str | None


class ConsoleSessionList(BaseModel):
    items: list[ConsoleSessionOut]


class EndedOut(BaseModel):
    """How many sign-ins were ended (their open live connections are closed too)."""

    ended: int


def token_out(row: ApiToken) -> ApiTokenOut:
    return ApiTokenOut(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def console_session_out(row: ConsoleSession) -> ConsoleSessionOut:
    return ConsoleSessionOut(
        id=row.id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        user_agent=row.user_agent,
        ip=row.ip,
    )


@operation(
    bp,
    "/users/<int:user_id>/tokens",
    "GET",
    summary="A user's API tokens that still work (admin); the tokens themselves are never shown",
    roles=permissions.ADMINISTER,
    response=ApiTokenList,
    tag="users",
)
def list_user_tokens(user_id: int) -> ApiTokenList:
    user = service.get_user(session=db.session, user_id=user_id)
    return ApiTokenList(
        items=[token_out(t) for t in access.api_tokens(session=db.session, user=user)]
    )


@operation(
    bp,
    "/users/<int:user_id>/tokens",
    "DELETE",
    summary="Revoke every API token of a user and close the live connections opened with them "
    "(admin)",
    roles=permissions.ADMINISTER,
    response=EndedOut,
    tag="users",
)
def revoke_user_tokens(user_id: int) -> EndedOut:
    user = service.get_user(session=db.session, user_id=user_id)
    return EndedOut(ended=access.revoke_api_tokens(session=db.session, user=user))


@operation(
    bp,
    "/users/<int:user_id>/tokens/<int:token_id>",
    "DELETE",
    summary="Revoke one API token of a user (admin)",
    roles=permissions.ADMINISTER,
    status=204,
    tag="users",
)
def revoke_user_token(user_id: int, token_id: int) -> Response:
    user = service.get_user(session=db.session, user_id=user_id)
    access.revoke_api_tokens(session=db.session, user=user, only_id=token_id)
    return Response(status=204)


@operation(
    bp,
    "/users/<int:user_id>/sessions",
    "GET",
    summary="A user's console sessions that are still signed in (admin)",
    roles=permissions.ADMINISTER,
    response=ConsoleSessionList,
    tag="users",
)
def list_user_sessions(user_id: int) -> ConsoleSessionList:
    user = service.get_user(session=db.session, user_id=user_id)
    rows = access.console_sessions(session=db.session, user=user)
    return ConsoleSessionList(items=[console_session_out(s) for s in rows])


@operation(
    bp,
    "/users/<int:user_id>/sessions",
    "DELETE",
    summary="Sign a user out of every console session and close its live connections (admin)",
    roles=permissions.ADMINISTER,
    response=EndedOut,
    tag="users",
)
def end_user_sessions(user_id: int) -> EndedOut:
    user = service.get_user(session=db.session, user_id=user_id)
    return EndedOut(ended=access.end_console_sessions(session=db.session, user=user))


@operation(
    bp,
    "/users/<int:user_id>/sessions/<int:session_id>",
    "DELETE",
    summary="Sign a user out of one console session (admin)",
    roles=permissions.ADMINISTER,
    status=204,
    tag="users",
)
def end_user_session(user_id: int, session_id: int) -> Response:
    user = service.get_user(session=db.session, user_id=user_id)
    access.end_console_sessions(session=db.session, user=user, only_id=session_id)
    return Response(status=204)
