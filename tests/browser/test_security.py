"""The Content-Security-Policy holds in a real browser: our scripts run, injected ones do not."""

import pytest

pytestmark = pytest.mark.integration


def test_injected_inline_script_is_refused_while_our_own_scripts_run(
    playwright_instance, chromium_path, live_server
):
    from tests.toolkit.browser import CHROMIUM_ARGS

    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    try:
        page = browser.new_page(base_url=live_server.url)
        refused = []
        page.on("console", lambda message: refused.append(message.text))
        response = page.goto("/")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy
        assert page.evaluate("typeof window.BinderyProgress === 'undefined'")  # not loaded on this page
        # What an XSS would try: markup with an inline handler, and an inline script.
        page.evaluate(
            """() => {
                document.body.insertAdjacentHTML('beforeend', '<img src="/nope.png" onerror="window.pwned = 1">');
                const script = document.createElement('script');
                script.textContent = 'window.pwned = 2';
                document.body.appendChild(script);
            }"""
        )
        page.wait_for_timeout(500)
        assert page.evaluate("window.pwned === undefined")
        assert any("Content Security Policy" in text for text in refused), refused
        # Our own script still works: the language menu submits itself.
        with page.expect_navigation():
            page.select_option("#language", "es")
        assert page.get_by_role("link", name="Iniciar sesión").count() >= 1
    finally:
        browser.close()
