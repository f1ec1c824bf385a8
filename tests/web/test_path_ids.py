"""An id in a path that no key can hold (32-bit INTEGER) is an unknown id (404), on pages and the API alike."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forum.web import ID_MAX

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("path", [f"/questions/{HUGE}", f"/questions/{HUGE}/some-slug", f"/users/{HUGE}",
                                  f"/api/v1/questions/{HUGE}", f"/api/v1/answers/{HUGE}",
                                  # beyond PostgreSQL's integer, within 64 bits: was a 500 there
                                  f"/questions/{ID_MAX + 1}", f"/api/v1/cases/{ID_MAX + 1}",
                                  f"/api/v1/questions/{2**63 - 1}"])
def test_a_number_too_big_for_a_key_is_not_found(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404


def test_the_api_document_bounds_its_path_ids(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    ids = [p for path in spec["paths"].values() for op in path.values() if isinstance(op, dict)
           for p in op.get("parameters", []) if p.get("in") == "path" and p["schema"].get("type") == "integer"]
    ids += [p for path in spec["paths"].values() for p in path.get("parameters", [])
            if p.get("in") == "path" and p["schema"].get("type") == "integer"]
    assert ids and all(p["schema"]["maximum"] == ID_MAX for p in ids)
