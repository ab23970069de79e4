"""GET /intake/stats: the intakes' answer counters, shown to an admin's or a gateway's
Bearer token only; anyone else gets 401 or 403 and no figure."""

from __future__ import annotations

import pytest

from tests.dispatch.intake.conftest import Hotline, order


async def _get(hotline: Hotline, authorization: str | None) -> tuple[int, dict[str, object]]:
    headers = {} if authorization is None else {"authorization": authorization}
    answer = await hotline.http.get(hotline.url + "/intake/stats", headers=headers)
    return answer.status_code, answer.json()


@pytest.mark.parametrize("role", ["admin", "gateway"])
async def test_an_admin_or_a_gateway_reads_the_counters(hotline: Hotline, role: str) -> None:
    assert (await hotline.push(order())).status_code == 200
    token = hotline.running.store.create_user(f"读统计-{role}", role)
    status, body = await _get(hotline, f"Bearer {token}")
    assert status == 200
    assert body == {"answers": {"12345": {"ok": 1}}}
    # The scheme's name in any case, as /snapshots takes it.
    assert (await _get(hotline, f"bearer {token}"))[0] == 200


@pytest.mark.parametrize(
    ("why", "header"),
    [
        ("no header", None),
        ("a bare token", "{token}"),
        ("another scheme", "Basic {token}"),
        ("two spaces", "Bearer  {token}"),
        ("an unknown token", "Bearer not-a-token-of-anybody"),
        ("no token", "Bearer"),
    ],
)
async def test_no_valid_token_gets_401_and_no_figure(
    hotline: Hotline, why: str, header: str | None
) -> None:
    assert (await hotline.push(order())).status_code == 200
    token = hotline.running.store.create_user("系统管理员", "admin")
    sent = None if header is None else header.format(token=token)
    answer = await hotline.http.get(
        hotline.url + "/intake/stats", headers={} if sent is None else {"authorization": sent}
    )
    assert answer.status_code == 401, why
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {
        "ok": False,
        "error": "unauthorized",
        "message": "send Authorization: Bearer <token>",
    }
    # Refused reads are not answers of an intake: the counters did not move.
    admin = await _get(hotline, f"Bearer {token}")
    assert admin == (200, {"answers": {"12345": {"ok": 1}}})


@pytest.mark.parametrize("user", ["commander", "dispatcher", "wall", "linghu", "community"])
async def test_other_roles_get_403_and_no_figure(hotline: Hotline, user: str) -> None:
    assert (await hotline.push(order())).status_code == 200
    status, body = await _get(hotline, f"Bearer {hotline.running.tokens[user]}")
    assert (status, body) == (
        403,
        {
            "ok": False,
            "error": "forbidden",
            "message": "the intake counters are for an admin or a gateway",
        },
    )


async def test_a_revoked_token_is_refused(hotline: Hotline) -> None:
    store = hotline.running.store
    token = store.create_user("12345网关", "gateway")
    assert (await _get(hotline, f"Bearer {token}"))[0] == 200
    store.revoke_user("12345网关")
    hotline.server.auth.forget("12345网关")  # as the admin op does (§6.9): at once
    assert (await _get(hotline, f"Bearer {token}"))[0] == 401
