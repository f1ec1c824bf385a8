"""An id in a path that no 64-bit key can hold is an unknown id (404), on pages and the API alike."""
from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("path", [f"/questions/{HUGE}", f"/questions/{HUGE}/some-slug", f"/users/{HUGE}",
                                  f"/api/v1/questions/{HUGE}", f"/api/v1/answers/{HUGE}"])
def test_a_number_too_big_for_a_key_is_not_found(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404


def test_the_api_document_bounds_its_path_ids(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    ids = [p for path in spec["paths"].values() for op in path.values() if isinstance(op, dict)
           for p in op.get("parameters", []) if p.get("in") == "path" and p["schema"].get("type") == "integer"]
    ids += [p for path in spec["paths"].values() for p in path.get("parameters", [])
            if p.get("in") == "path" and p["schema"].get("type") == "integer"]
    assert ids and all(p["schema"]["maximum"] == 2**63 - 1 for p in ids)
