"""The pytest plugin: options, hooks, fixtures, Allure routing and the farm scheduler."""
