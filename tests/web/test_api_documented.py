"""What core.py documents for every operation, and the inputs schemathesis found answered with a 500."""
from __future__ import annotations

from flask.testing import FlaskClient

from forum.web import ID_MAX


def test_every_operation_lists_its_statuses_and_none_falls_back_to_a_default(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    seen = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue  # the path's own "parameters"
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert "default" not in responses, where
            assert {"401", "403", "429"} <= set(responses), where
            if method == "get":
                assert "304" in responses, where
            else:
                assert {"400", "413", "422"} <= set(responses), where
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "$ref" not in response:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (where, status)
            seen += 1
    assert seen >= 3
    ids = spec["paths"]["/api/v1/questions/{question_id}"]["parameters"][0]["schema"]
    assert ids == {"type": "integer", "minimum": 0, "maximum": ID_MAX}  # web.BoundedInt


def test_an_id_beyond_the_databases_range_is_404_not_a_database_error(client: FlaskClient) -> None:
    r = client.get(f"/api/v1/questions/{ID_MAX + 1}")  # PostgreSQL refused it: integer out of range
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/questions/{10**30}").status_code == 404


def test_nul_characters_are_dropped_from_queries_and_a_time_near_year_one_is_the_earliest(client: FlaskClient) -> None:
    assert client.get("/api/v1/questions?tag=hub%00x").status_code == 200
    r = client.get("/api/v1/questions", query_string={"since": "0001-01-01T00:00:00+01:00"})
    assert r.status_code == 200 and r.get_json()["items"] == []
    r = client.post("/api/v1/questions", data=b'{"title": "a\\u0000"}', content_type="application/json")
    assert r.status_code == 401  # the token check comes first; the body is parsed after it
