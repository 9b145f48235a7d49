"""Open Haven, switch to Arabic: the page is right-to-left and translated, loading nothing from elsewhere."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_switch_to_arabic_mirrors_and_translates_the_page(page):
    page.goto("/")
    assert page.url.endswith("/en/accounts/sign-in/?next=/en/")
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.get_by_role("heading", name="Sign in").is_visible()

    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change language").click()

    page.wait_for_url("**/ar/accounts/sign-in/**")
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl"
    assert html.get_attribute("lang") == "ar"
    assert page.get_by_role("heading", name="تسجيل الدخول").is_visible()
    # Logical CSS properties mirror the header: the tools sit on the left in Arabic.
    brand = page.locator(".brand").bounding_box()
    tools = page.locator(".site-header__tools").bounding_box()
    assert brand["x"] > tools["x"]
    # The skip link is the first focusable element, translated, and visible once focused.
    first = "document.querySelector('a[href], button, input:not([type=hidden]), select, textarea')"
    assert page.evaluate(f"{first}.className") == "skip-link"
    assert page.evaluate(f"{first}.textContent") != "Skip to main content"
    page.locator(".skip-link").focus()
    assert page.locator(".skip-link").bounding_box()["y"] >= 0


def test_unknown_language_prefix_is_a_translated_404(page):
    response = page.goto("/xx/accounts/sign-in/")
    assert response.status == 404
