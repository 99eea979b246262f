"""``pytest-vela report``: one Allure report from the results of one rig or of a whole farm."""
