"""Signing in and out, and the language switch.

Users come from ``UserDirectory.authenticate`` (argon2). The session is cleared on login
(no fixation), logout is a POST (no logout by a foreign link), and login attempts are
rate-limited per address and per username, in-process by default.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from service.access import Actor
from service.users import normal_username
from service.web.forms import LanguageForm, LoginForm
from service.web.i18n import SESSION_KEY, remember_language
from service.web.i18n import gettext as _
from service.web.support import konvergen, signed_in_actor

bp = Blueprint("auth", __name__)

LOGIN_LIMIT_CONFIG = "KONVERGEN_LOGIN_RATE_LIMIT"
DEFAULT_LOGIN_LIMIT = "10 per minute;50 per hour"


class WebUser(UserMixin):
    """Flask-Login's view of a signed-in person: the actor the use cases need."""

    def __init__(self, actor: Actor):
        self.actor = actor

    def get_id(self) -> str:
        return self.actor.username


def load_user(username: str) -> WebUser | None:
    actor = signed_in_actor(username)
    return WebUser(actor) if actor is not None else None


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never send a user somewhere else after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _username_key() -> str:
    return "login:" + normal_username(request.form.get("username"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        limiter: Limiter = current_app.extensions["konvergen_limiter"]
        limit = current_app.config.get(LOGIN_LIMIT_CONFIG, DEFAULT_LOGIN_LIMIT)
        with limiter.limit(limit, key_func=get_remote_address, scope="login-address"):
            with limiter.limit(limit, key_func=_username_key, scope="login-username"):
                actor = konvergen().users.authenticate(form.username.data, form.password.data)
        if actor is not None:
            language = session.get(SESSION_KEY)
            session.clear()
            login_user(WebUser(actor))
            remember_language(konvergen().users.language(actor.username) or language)
            flash(_("Welcome, %(name)s.", name=actor.display_name or actor.username), "success")
            return redirect(safe_next(form.next.data, url_for("web.dashboard.index")))
        form.password.errors = [_("Wrong username or password.")]
        status = 401
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    language = session.get(SESSION_KEY)
    logout_user()
    session.clear()
    remember_language(language)
    flash(_("You have signed out."), "success")
    return redirect(url_for("web.auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    """Switches the interface language; for a signed-in user it is remembered."""
    form = LanguageForm()
    chosen = remember_language(form.language.data or "")
    if current_user.is_authenticated:
        konvergen().users.set_language(current_user.actor.username, chosen)
    return redirect(safe_next(form.next.data, url_for("web.dashboard.index")))


def init_login(app) -> LoginManager:
    manager = LoginManager(app)
    manager.login_view = "web.auth.login"
    manager.login_message = None  # the login page itself says what to do
    manager.session_protection = "strong"
    manager.user_loader(load_user)
    return manager


def init_limiter(app) -> Limiter:
    """In-process counting by default; RATELIMIT_STORAGE_URI names a shared store
    (set explicitly, so Flask-Limiter has nothing to warn about)."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    app.extensions["konvergen_limiter"] = limiter
    return limiter
