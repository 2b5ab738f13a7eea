"""Locust users for ``bench/load.py``: wall screens and analysts, against 127.0.0.1 only.

Not meant to be run by hand (``bench/load.py`` starts the server, makes the plan and runs Locust
headless, bounded in users and time), but it can be::

    GP_LOAD_PLAN=/tmp/gp-load/.../plan.json GP_LOAD_TOKEN=... .venv/bin/locust -f bench/locustfile.py \\
        --headless --host http://127.0.0.1:8791 -u 60 -r 3 -t 120s

* ``Wall`` (``GP_LOAD_WALLS`` of them): opens ``/wall?token=...`` (the token signs the screen in), Dash's
  layout and dependencies, the page router, then the refresh callback every 10 s carrying the "drawn"
  state of its previous answer, as the page does (only new numbers travel after the first refresh).
* ``Analyst`` (``GP_LOAD_ANALYSTS``): signs in through ``/login`` (CSRF token, password), loads the app,
  then every 3-10 s clicks: changes one thing (page, window, drill-down to a street, community or grid
  of the warehouse, a category or urgency filter, back up to the district), after which the page
  router and every panel callback of the page are fired one after another with the new view state. On
  ``/cases`` also the grid's first block (and the next one half the time) and a case's lifecycle.

A request fails when its status is not 200/204, or when a panel answers with its error message
(``an-msg-error``): a failure the page would show.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import time
from urllib.parse import urlencode

from locust import HttpUser, between, constant, task

PLAN = json.loads(open(os.environ["GP_LOAD_PLAN"], encoding="utf-8").read()) if os.environ.get("GP_LOAD_PLAN") else {}
TOKEN = os.environ.get("GP_LOAD_TOKEN", "")
PAGE_WEIGHTS = {"/": 4, "/map": 3, "/cases": 4}  # the other analyst pages: 1
JSON = {"Content-Type": "application/json"}


def _post(user: HttpUser, body: dict, name: str) -> dict | None:
    """One callback request as the browser sends it; its JSON answer (None for 204 or a failure)."""
    with user.client.post("/_dash-update-component", data=json.dumps(body), headers=JSON, name=name,
                          catch_response=True) as r:
        if r.status_code == 204:
            r.success()
            return None
        if r.status_code != 200:
            r.failure(f"HTTP {r.status_code}: {r.text[:200]}")
            return None
        if b"an-msg-error" in r.content:
            r.failure(f"panel error: {r.text[:200]}")
            return None
        r.success()
        try:
            return r.json()
        except ValueError:
            return None


def _load_app(user: HttpUser, page: str, name: str) -> None:
    """What a browser fetches on a full page load besides the bundles (cached): page, layout, dependencies."""
    user.client.get(page, name=name)
    user.client.get("/_dash-layout", name="/_dash-layout")
    user.client.get("/_dash-dependencies", name="/_dash-dependencies")


class Wall(HttpUser):
    """A wall screen: the page once, then its refresh every 10 s."""

    fixed_count = int(os.environ.get("GP_LOAD_WALLS", "10"))
    wait_time = constant(10)

    def on_start(self) -> None:
        _load_app(self, f"/wall?token={TOKEN}&refresh=10", "page /wall")
        _post(self, PLAN["wall_router"], "router /wall")
        self.n, self.drawn = 0, None

    @task
    def refresh(self) -> None:
        self.n += 1
        body = copy.deepcopy(PLAN["wall_refresh"])
        body["inputs"][0]["value"] = self.n
        body["state"][1]["value"] = self.drawn or {}
        answer = _post(self, body, "wall refresh" if self.drawn else "wall first refresh")
        if answer is not None:
            self.drawn = answer["response"][PLAN["wall_drawn_id"]]["data"]


class Analyst(HttpUser):
    """An analyst of the district clicking through the analyst pages."""

    fixed_count = int(os.environ.get("GP_LOAD_ANALYSTS", "50"))
    wait_time = between(3, 10)

    def on_start(self) -> None:
        for _attempt in range(5):  # a 429 (too many sign-ins from this address) is counted, then retried as a person would
            form = self.client.get("/login", name="page /login").text
            csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
                r'value="([^"]+)"[^>]*name="csrf_token"', form)
            r = self.client.post("/login", data={"username": PLAN["user"], "password": PLAN["password"],
                                                 "csrf_token": csrf.group(1) if csrf else ""}, name="sign-in POST /login")
            if r.status_code != 429:
                break
            time.sleep(min(60.0, float(r.headers.get("Retry-After") or 5)) + random.random() * 5)
        _load_app(self, "/", "page / (after sign-in)")
        self.page = next(p for p in PLAN["pages"] if p["path"] == "/")
        self.state = {"win": "7d", "scope": None, "cat": None, "urg": None}

    # --- the view ------------------------------------------------------------------------------
    def _search(self, case: str | None = None) -> str:
        """The view's query string; with a case, the district's (a case's lifecycle is asked by its id)."""
        q = {}
        if self.state["win"] != "7d":
            q["win"] = self.state["win"]
        if self.state["scope"] and not case:
            q["scope"] = self.state["scope"]
        if self.state["cat"]:
            q["cat"] = self.state["cat"]
        if self.state["urg"]:
            q["urg"] = self.state["urg"]
        if case:
            q["case"] = case
        return "?" + urlencode(q, safe=",") if q else ""

    def _change_one_thing(self) -> None:
        areas = PLAN["areas"]
        what = random.choices(["page", "window", "drill", "up", "category", "urgency"], [4, 2, 3, 1, 1, 1])[0]
        if what == "page":
            pages = PLAN["pages"]
            self.page = random.choices(pages, [PAGE_WEIGHTS.get(p["path"], 1) for p in pages])[0]
        elif what == "window":
            self.state["win"] = random.choice(PLAN["windows"])
        elif what == "drill":
            level = random.choices(["street", "community", "grid"], [3, 2, 1])[0]
            self.state["scope"] = random.choice(areas[level])
        elif what == "up":
            self.state["scope"] = None
        elif what == "category":
            self.state["cat"] = None if self.state["cat"] else random.choice(PLAN["categories"])
        else:
            self.state["urg"] = None if self.state["urg"] else "urgent"

    def _with_state(self, body: dict, search: str) -> dict:
        body = copy.deepcopy(body)
        for item in body.get("inputs", []) + body.get("state", []):
            if isinstance(item, dict) and item.get("id") == PLAN["state_id"] and item.get("property") == "data":
                item["value"] = {"search": search}
        return body

    # --- a click -------------------------------------------------------------------------------
    @task
    def click(self) -> None:
        self._change_one_thing()
        path, search = self.page["path"], self._search()
        router = copy.deepcopy(self.page["router"])
        for item in router["inputs"] + router["state"]:
            if item["property"] == "search":
                item["value"] = search
            elif item["property"] == "href":
                item["value"] = f"http://127.0.0.1{path}{search}"
        _post(self, router, f"router {path}")
        for cb in self.page["callbacks"]:
            if cb["name"] != PLAN["side_id"]:  # the case side panel: only with a case (below)
                _post(self, self._with_state(cb["body"], search), f"cb {path} {cb['name'][:48]}")
        if path == "/cases":
            self._cases(search)

    def _cases(self, search: str) -> None:
        blocks = [(0, 100)] + ([(100, 200)] if random.random() < 0.5 else [])
        for start, end in blocks:
            body = self._with_state(PLAN["rows"], search)
            for item in body["inputs"]:
                if item["id"] == PLAN["grid_id"]:
                    item["value"] = {"startRow": start, "endRow": end, "sortModel": [], "filterModel": {}}
            for item in body["state"]:
                if item["id"] == PLAN["url_id"]:
                    item["value"] = search
            _post(self, body, f"cb /cases grid block rows {start}-{end}")
        case = random.choice(PLAN["cases"])
        for cb in self.page["callbacks"]:
            if cb["name"] == PLAN["side_id"]:
                _post(self, self._with_state(cb["body"], self._search(case=case)), "cb /cases case lifecycle")
