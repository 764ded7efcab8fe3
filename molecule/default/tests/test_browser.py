"""A person's path: open the gallery in Chromium, upload with the form, see the thumbnail."""

import os
import uuid

from playwright.sync_api import sync_playwright

from swarm_testing import ARTIFACTS, make_png

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium's background services would try to reach the internet.
QUIET = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def test_upload_through_the_form_shows_the_new_thumbnail(node_urls, tmp_path):
    name = f"browser-{uuid.uuid4().hex[:8]}.png"
    picture = tmp_path / name
    picture.write_bytes(make_png(48, 32, (220, 40, 40)))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        try:
            page = browser.new_page()
            page.goto(f"{node_urls['node2']}/")
            page.set_input_files("input[name=image]", str(picture))
            with page.expect_navigation():
                page.locator("form[action='/images'] [type=submit]").click()
            thumbnail = page.locator(f"img.thumb[alt='{name}']")
            thumbnail.wait_for()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
            assert thumbnail.evaluate("img => img.naturalWidth") == 48
            page.screenshot(path=str(ARTIFACTS / "gallery-upload.png"), full_page=True)
        finally:
            browser.close()
