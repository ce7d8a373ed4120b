"""Playwright fixtures driving Debian's Chromium (never a downloaded browser).

``browser`` and ``page`` override pytest-playwright's fixtures of the same names, so none of
its browser-launching machinery runs. Playwright is started per module and stopped again, so
its event loop does not linger into the rest of the session.
"""

import pytest
from playwright.sync_api import sync_playwright

from config.celery import app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def console_errors(page) -> list[str]:
    """Console errors (CSP violations among them) and uncaught exceptions on ``page``."""
    errors: list[str] = []

    def on_console(message):
        if message.type == "error":
            errors.append(f"console: {message.text} @ {message.location.get('url')}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    return errors


SAVED_CELERY_KEYS = ("broker_url", "task_always_eager")


@pytest.fixture
def queued_tasks_wait():
    """Celery on an in-memory broker that no worker consumes: a queued job (an import, a
    report) stays queued until the test runs the task's body, so the page is seen polling."""
    saved = {key: app.conf[key] for key in SAVED_CELERY_KEYS}
    app.conf.update(broker_url="memory://", task_always_eager=False)
    app.amqp._producer_pool = None
    app._pool = None
    try:
        yield
    finally:
        app.conf.update(saved)
        app.amqp._producer_pool = None
        app._pool = None
