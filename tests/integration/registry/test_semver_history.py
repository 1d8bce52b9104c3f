"""Semantic versions continue from the highest ever issued, across soft and permanent deletes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.test_spine_api import EMAIL, ID, NOTE, order, publish

pytestmark = pytest.mark.integration


def delete_subject(client: TestClient, subject: str, *, permanent: bool = False) -> None:
    if permanent:
        assert client.delete(f"/subjects/{subject}").status_code == 200
    response = client.delete(f"/subjects/{subject}", params={"permanent": permanent})
    assert response.status_code == 200, response.text


def test_incompatible_schema_after_a_soft_delete_is_major_and_moves_the_topic(client: TestClient) -> None:
    publish(client, "sd-value", order(ID), "1.0.0")
    delete_subject(client, "sd-value")
    understated = publish(client, "sd-value", order(ID, EMAIL), "1.1.0")
    assert understated.status_code == 422, understated.text
    assert "2.0.0" in understated.json()["message"]
    undeclared = publish(client, "sd-value", order(ID, EMAIL))
    assert (undeclared.status_code, undeclared.json()["error_code"]) == (409, 409)
    accepted = publish(client, "sd-value", order(ID, EMAIL), "2.0.0")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert (body["change"], body["semver"], body["topic"]) == ("MAJOR", "2.0.0", "sd.v2")


def test_compatible_schema_after_a_soft_delete_continues_the_minor_line(client: TestClient) -> None:
    publish(client, "sc-value", order(ID), "1.0.0")
    publish(client, "sc-value", order(ID, NOTE))
    delete_subject(client, "sc-value")
    body = publish(client, "sc-value", order(ID, NOTE, doc="Changed.")).json()
    assert (body["change"], body["semver"], body["topic"]) == ("PATCH", "1.1.1", "sc.v1")


def test_soft_deleted_latest_version_still_counts_for_the_next_version(client: TestClient) -> None:
    publish(client, "sv-value", order(ID), "1.0.0")
    publish(client, "sv-value", order(ID, NOTE), "1.5.0")
    assert client.delete("/subjects/sv-value/versions/2").status_code == 200
    # Classed against the soft-deleted version too: records written with it are on the topic.
    body = publish(client, "sv-value", order(ID, doc="Changed.")).json()
    assert (body["change"], body["semver"], body["topic"]) == ("MINOR", "1.6.0", "sv.v1")


def test_after_a_permanent_delete_versions_still_continue_from_the_highest_issued(
    client: TestClient,
) -> None:
    publish(client, "hd-value", order(ID), "1.0.0")
    publish(client, "hd-value", order(ID, NOTE))
    delete_subject(client, "hd-value", permanent=True)
    assert client.get("/subjects").json() == []
    refused = publish(client, "hd-value", order(ID), "1.2.0")
    assert refused.status_code == 422, refused.text
    assert "2.0.0" in refused.json()["message"]
    body = publish(client, "hd-value", order(ID), "2.0.0").json()
    assert (body["change"], body["semver"], body["topic"], body["version"]) == ("MAJOR", "2.0.0", "hd.v2", 1)


def test_confluent_register_after_a_soft_delete_records_the_next_major(client: TestClient) -> None:
    publish(client, "cr-value", order(ID), "1.0.0")
    delete_subject(client, "cr-value")
    registered = client.post("/subjects/cr-value/versions", json={"schema": order(ID, EMAIL)})
    assert registered.status_code == 200, registered.text
    latest = client.get("/schemas/cr-value").json()
    assert (latest["semver"], latest["topic"]) == ("2.0.0", "cr.v2")
    delete_subject(client, "cr-value", permanent=True)
    assert client.post("/subjects/cr-value/versions", json={"schema": order(ID)}).status_code == 200
    assert client.get("/schemas/cr-value").json()["semver"] == "3.0.0"
