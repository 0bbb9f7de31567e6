"""PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.

Data flow: `parser.parse` turns a statement and its `?` parameters into a `Statement`
whose WHERE clause is already rendered as a DynamoDB condition expression; `statements`
turns that into the equivalent Query / Scan / PutItem / UpdateItem / DeleteItem /
Transact* request and runs it on the engine, so PartiQL and the JSON API share every
check and every write path.
"""

from lambic.services.dynamodb.partiql.statements import PartiQL

__all__ = ["PartiQL"]
