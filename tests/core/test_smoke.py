import pytest


@pytest.mark.django_db
def test_sign_in_page_renders(client):
    response = client.get("/en/accounts/sign-in/")
    assert response.status_code == 200
