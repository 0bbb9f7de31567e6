"""PartiQL through the edge: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(ddb: Any) -> str:
    name = "pq-" + uuid.uuid4().hex[:8]
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "artist", "KeyType": "HASH"},
            {"AttributeName": "song", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "artist", "AttributeType": "S"},
            {"AttributeName": "song", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for song, year in (("One", 2001), ("Two", 2003), ("Three", 2005)):
        ddb.execute_statement(
            Statement=f"INSERT INTO \"{name}\" VALUE {{'artist': 'Acme', 'song': ?, 'year': ?}}",
            Parameters=[{"S": song}, {"N": str(year)}],
        )
    return name


def _run(ddb: Any, statement: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ddb.execute_statement(Statement=statement, **kwargs)["Items"]
    return items


def _code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_insert_and_select_with_literals_of_every_kind(ddb: Any, table: str) -> None:
    _run(
        ddb,
        f"INSERT INTO \"{table}\" VALUE {{'artist': 'B', 'song': 's', 'n': 1.5, 'ok': true, "
        "'nothing': null, 'l': [1, 'two'], 'm': {'k': 'v'}, 'tags': <<'a', 'b'>>}",
    )
    (item,) = _run(ddb, f"SELECT * FROM \"{table}\" WHERE artist = 'B' AND song = 's'")
    assert item == {
        "artist": {"S": "B"},
        "song": {"S": "s"},
        "n": {"N": "1.5"},
        "ok": {"BOOL": True},
        "nothing": {"NULL": True},
        "l": {"L": [{"N": "1"}, {"S": "two"}]},
        "m": {"M": {"k": {"S": "v"}}},
        "tags": {"SS": ["a", "b"]},
    }


def test_insert_of_an_existing_key_is_a_duplicate(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        _run(ddb, f"INSERT INTO \"{table}\" VALUE {{'artist': 'Acme', 'song': 'One'}}")
    assert _code(excinfo) == "DuplicateItemException"


@pytest.mark.parametrize(
    ("where", "songs"),
    [
        ("artist = 'Acme'", ["One", "Three", "Two"]),
        ("artist = 'Acme' AND song > 'One'", ["Three", "Two"]),
        ("year >= 2003", ["Three", "Two"]),
        ("artist = 'Acme' AND year = 2001 OR song = 'Two'", ["One", "Two"]),
        ("year IN [2001, 2005] AND note IS MISSING", ["One", "Three"]),
        ("begins_with(song, 'T') AND NOT (year = 2005)", ["Two"]),
        ("year BETWEEN 2002 AND 2004", ["Two"]),
    ],
)
def test_select_where(ddb: Any, table: str, where: str, songs: list[str]) -> None:
    items = _run(ddb, f'SELECT song FROM "{table}" WHERE {where}')
    assert sorted(i["song"]["S"] for i in items) == songs


def test_select_pages_with_next_token(ddb: Any, table: str) -> None:
    seen: list[str] = []
    token = None
    while True:
        page = ddb.execute_statement(
            Statement=f"SELECT song FROM \"{table}\" WHERE artist = 'Acme'",
            Limit=1,
            **({"NextToken": token} if token else {}),
        )
        seen += [i["song"]["S"] for i in page["Items"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == ["One", "Three", "Two"]


def test_update_and_delete_need_the_full_key(ddb: Any, table: str) -> None:
    (item,) = _run(
        ddb,
        f"UPDATE \"{table}\" SET year = year + 1 SET note = 'hi' REMOVE song_x "
        "WHERE artist = 'Acme' AND song = 'One' RETURNING ALL NEW *",
    )
    assert item["year"] == {"N": "2002"} and item["note"] == {"S": "hi"}
    with pytest.raises(ClientError) as excinfo:
        _run(ddb, f"UPDATE \"{table}\" SET year = 1 WHERE artist = 'Acme'")
    assert _code(excinfo) == "ValidationException"
    assert "mandatory equality on all key attributes" in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:
        _run(ddb, f"UPDATE \"{table}\" SET year = 1 WHERE artist = 'Nobody' AND song = 'x'")
    assert _code(excinfo) == "ConditionalCheckFailedException"
    (old,) = _run(
        ddb,
        f"DELETE FROM \"{table}\" WHERE artist = 'Acme' AND song = 'Two' RETURNING ALL OLD *",
    )
    assert old["year"] == {"N": "2003"}
    assert _run(ddb, f"SELECT * FROM \"{table}\" WHERE artist = 'Acme' AND song = 'Two'") == []


def test_malformed_statements_and_parameters(ddb: Any, table: str) -> None:
    for statement, parameters in (
        (f'SELEC * FROM "{table}"', None),
        (f'SELECT * FROM "{table}" WHERE artist = ?', None),
        (f"SELECT * FROM \"{table}\" WHERE artist = 'x'", [{"S": "extra"}]),
    ):
        with pytest.raises(ClientError) as excinfo:
            ddb.execute_statement(
                Statement=statement, **({"Parameters": parameters} if parameters else {})
            )
        assert _code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        _run(ddb, 'SELECT * FROM "no-such-table"')
    assert _code(excinfo) == "ResourceNotFoundException"


def test_batch_execute_reports_each_statement(ddb: Any, table: str) -> None:
    responses = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"SELECT * FROM \"{table}\" WHERE artist = 'Acme' AND song = 'One'"},
            {"Statement": f"SELECT * FROM \"{table}\" WHERE artist = 'Acme' AND song = 'Zz'"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'artist': 'Acme', 'song': 'One'}}"},
        ]
    )["Responses"]
    assert responses[0]["Item"]["year"] == {"N": "2001"}
    assert "Item" not in responses[1] and "Error" not in responses[1]
    assert responses[2]["Error"]["Code"] == "DuplicateItem"


def test_execute_transaction_writes_all_or_nothing(ddb: Any, table: str) -> None:
    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'artist': 'C', 'song': 'x'}}"},
            {"Statement": f"UPDATE \"{table}\" SET n = 1 WHERE artist = 'Acme' AND song = 'One'"},
        ]
    )
    with pytest.raises(ClientError) as excinfo:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'artist': 'D', 'song': 'y'}}"},
                {"Statement": f"INSERT INTO \"{table}\" VALUE {{'artist': 'C', 'song': 'x'}}"},
            ]
        )
    assert _code(excinfo) == "TransactionCanceledException"
    reasons = excinfo.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "DuplicateItem"]
    assert _run(ddb, f"SELECT * FROM \"{table}\" WHERE artist = 'D' AND song = 'y'") == []
    read = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"SELECT n FROM \"{table}\" WHERE artist = 'Acme' AND song = 'One'"},
            {"Statement": f"SELECT * FROM \"{table}\" WHERE artist = 'C' AND song = 'x'"},
        ]
    )["Responses"]
    assert read[0]["Item"] == {"n": {"N": "1"}}
    assert read[1]["Item"]["artist"] == {"S": "C"}


def test_parenthesised_terms_are_not_doubled(ddb: Any, table: str) -> None:
    items = _run(ddb, f'SELECT song FROM "{table}" WHERE (year = 2001) OR NOT (year < 2005)')
    assert sorted(i["song"]["S"] for i in items) == ["One", "Three"]
