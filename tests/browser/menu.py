"""The main menu in a real browser: groups are <details>, so a link is clicked after its
group is opened (as a person does, by mouse or keyboard)."""


def menu_link(page, group: str, name: str):
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text=group).click()
    return nav.get_by_role("link", name=name, exact=True)
