def test_health_reports_database_and_redis(client, db):
    response = client.get("/health/?workers=0")
    body = response.json()
    assert response.status_code == 200
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert "workers" not in body
