"""What the MiniWoB++ sample of the dataset tests holds (see conftest.py)."""

#: Tasks and how many of their files (first in MANIFEST order) the sample takes.
SAMPLE_TASKS = {
    "login-user": 6,
    "enter-password": 4,
    "click-scroll-list": 4,
    "flight.Alaska-auto": 2,
}
BROKEN = {
    "truncated": "2017-01-01_broken/login-user/login-user_TRUNCATED_d1.json.gz",
    "not-json": "2017-01-01_broken/login-user/login-user_NOTJSON_d1.json.gz",
    "no-states": "2017-01-01_broken/login-user/login-user_NOSTATES_d1.json.gz",
}
