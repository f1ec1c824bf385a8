"""How long each outcome of sign-up, sign-in and a reset request takes over HTTP, to show the
time tells nothing.

    .venv/bin/python -m tools.bench.accounts_timing [--rounds 40] [--database-url URL]

Runs the app in this process (Flask's test client: the whole request, view, service, commit
and the inline mail hand-over) with the production Argon2 parameters from config.py, on a
scratch SQLite file unless ``--database-url`` is given (it must be an empty database: the
tables are created and dropped). Throttles are off, so every request reaches the password
hash. The outcomes are interleaved round by round, so drift in the machine's load hits them
alike. Prints the median and the 10th/90th percentiles per outcome, and per form the spread:
the largest difference between two outcomes' medians.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from config import Config
from forum import create_app
from forum.extensions import db
from forum.services import accounts

PASSWORD = "correct-horse-battery"


def _ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=10)
    return f"median {statistics.median(samples):7.1f} ms  p10 {q[0]:7.1f}  p90 {q[-1]:7.1f}"


def run(rounds: int, database_url: str | None) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="accounts-timing-"))
    app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{scratch / 'timing.db'}",
        "ARGON2_TIME_COST": Config.ARGON2_TIME_COST, "ARGON2_MEMORY_COST": Config.ARGON2_MEMORY_COST,
        "ARGON2_PARALLELISM": Config.ARGON2_PARALLELISM,
        "WTF_CSRF_ENABLED": False, "LOGIN_THROTTLE_ENABLED": False, "MAIL_DIR": str(scratch / "mail"),
    })
    with app.app_context():
        db.create_all()
        accounts.register(accounts.Registration("owner", "owner@example.com", PASSWORD), verified=True)
        db.session.commit()
    # No app context held open from here: each request gets its own, as a served one does
    # (a shared one would share Flask-Login's cached user and the database session).
    n = iter(range(10**9))

    def post(path: str, data: dict[str, str], expect: int, text: str = "") -> Callable[[FlaskClient], None]:
        def go(c: FlaskClient) -> None:
            r = c.post(path, data=data)
            assert r.status_code == expect, (path, data, r.status_code)
            assert text in r.get_data(as_text=True)
        return go

    def fresh() -> Callable[[FlaskClient], None]:
        i = next(n)
        return post("/register", {"username": f"new_{i}", "email": f"new_{i}@example.com", "password": PASSWORD}, 302)

    def taken_email() -> Callable[[FlaskClient], None]:
        i = next(n)
        return post("/register", {"username": f"other_{i}", "email": "owner@example.com", "password": PASSWORD}, 302)

    forms: dict[str, dict[str, Callable[[], Callable[[FlaskClient], None]]]] = {
        "registration": {
            "new account": fresh,
            "taken e-mail": taken_email,
            "taken username": lambda: post("/register", {"username": "owner", "email": "free@example.com",
                                                         "password": PASSWORD}, 400, "That username is taken."),
            "invalid (malformed e-mail)": lambda: post("/register", {"username": "someone", "email": "not-an-address",
                                                                     "password": PASSWORD}, 400),
            "invalid (short password)": lambda: post("/register", {"username": "someone", "email": "s@example.com",
                                                                   "password": "short"}, 400),
        },
        "password reset request": {
            "address with an account": lambda: post("/password/forgot", {"email": "owner@example.com"}, 302),
            "address without one": lambda: post("/password/forgot", {"email": "nobody@example.com"}, 302),
        },
        "sign-in": {
            "unknown user": lambda: post("/login", {"login": "nobody", "password": PASSWORD}, 400),
            "wrong password": lambda: post("/login", {"login": "owner", "password": "wrong-password-x"}, 400),
            "right password": lambda: post("/login", {"login": "owner", "password": PASSWORD}, 302),
        },
    }
    times: dict[str, dict[str, list[float]]] = {form: {k: [] for k in outcomes} for form, outcomes in forms.items()}
    for round_ in range(rounds + 2):
        for form, outcomes in forms.items():
            for name, make in outcomes.items():
                request = make()
                c = app.test_client()  # a fresh visitor: no session carried between requests
                started = time.perf_counter()
                request(c)
                if round_ >= 2:  # the first rounds warm up imports, templates and the dummy hash
                    times[form][name].append((time.perf_counter() - started) * 1000)
    cfg = app.config
    print(f"Argon2id m={cfg['ARGON2_MEMORY_COST']} KiB t={cfg['ARGON2_TIME_COST']} p={cfg['ARGON2_PARALLELISM']}, "
          f"{rounds} rounds, {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    for form, measured in times.items():
        print(f"\n{form}")
        for name, samples in measured.items():
            print(f"  {name:28s} {_ms(samples)}")
        medians = [statistics.median(s) for s in measured.values()]
        print(f"  spread of medians: {max(medians) - min(medians):.1f} ms")
    with app.app_context():
        db.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    run(args.rounds, args.database_url)


if __name__ == "__main__":
    main()
