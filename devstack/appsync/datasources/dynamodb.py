"""AppSync's DynamoDB data source over boto3 (moto server locally).

Translates AppSync's DynamoDB request objects (JS resolver reference: GetItem, PutItem, UpdateItem,
DeleteItem, Query, Scan, TransactWriteItems) into low-level calls, and answers the way AppSync does:
items as plain JSON, errors as `{type: "DynamoDB:<Code>", message}`.
"""

from __future__ import annotations

import base64
import json
import threading
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.appsync.datasources import Outcome
from devstack.appsync.errors import AppSyncError

_ALLOWED_KEYS = {
    "GetItem": {"operation", "key", "consistentRead", "projection"},
    "PutItem": {"operation", "key", "attributeValues", "condition", "_version", "customPartitionKey"},
    "UpdateItem": {"operation", "key", "update", "condition", "_version", "customPartitionKey"},
    "DeleteItem": {"operation", "key", "condition", "_version", "customPartitionKey"},
    "Query": {
        "operation", "query", "filter", "index", "nextToken", "limit", "scanIndexForward",
        "consistentRead", "select", "projection",
    },
    "Scan": {"operation", "filter", "index", "nextToken", "limit", "consistentRead", "select", "projection",
             "segment", "totalSegments"},
    "TransactWriteItems": {"operation", "transactItems"},
}  # fmt: skip
_READS = {"GetItem", "Query", "Scan"}
_WRITE_LOCK = threading.Lock()


def mapping_error(message: str) -> AppSyncError:
    return AppSyncError(message, "MappingTemplate")


def to_wire(value: Any) -> Any:
    """AppSync typed value (numbers may be JSON numbers) → DynamoDB wire format."""
    if not isinstance(value, dict) or len(value) != 1:
        raise mapping_error(f"not a DynamoDB typed value: {json.dumps(value)[:200]}")
    ((kind, inner),) = value.items()
    if kind == "N":
        return {"N": str(inner)}
    if kind == "NS":
        return {"NS": [str(n) for n in inner]}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "L":
        return {"L": [to_wire(v) for v in inner]}
    if kind == "M":
        return {"M": wire_map(inner)}
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind in {"S", "BOOL", "SS"}:
        return {kind: inner}
    raise mapping_error(f"unknown DynamoDB type {kind}")


def wire_map(values: dict[str, Any] | None) -> dict[str, Any]:
    return {name: to_wire(v) for name, v in (values or {}).items()}


def _number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() and "e" not in text.lower() else float(number)


def to_plain(value: dict[str, Any]) -> Any:
    """DynamoDB wire value → the plain JSON AppSync hands resolvers."""
    ((kind, inner),) = value.items()
    converters: dict[str, Any] = {
        "S": lambda v: v,
        "N": _number,
        "BOOL": lambda v: v,
        "NULL": lambda _v: None,
        "SS": list,
        "NS": lambda v: [_number(n) for n in v],
        "B": lambda v: base64.b64encode(v).decode(),
        "BS": lambda v: [base64.b64encode(b).decode() for b in v],
        "L": lambda v: [to_plain(x) for x in v],
        "M": plain_item,
    }
    return converters[kind](inner)


def plain_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {name: to_plain(v) for name, v in item.items()}


def _expression(params: dict[str, Any], prefix: str, expression: dict[str, Any] | None) -> None:
    """Copy an AppSync {expression, expressionNames, expressionValues} into boto3 parameters."""
    if not expression:
        return
    if "expression" not in expression:
        raise mapping_error(f"{prefix} needs an expression")
    params[prefix] = expression["expression"]
    if expression.get("expressionNames"):
        params.setdefault("ExpressionAttributeNames", {}).update(expression["expressionNames"])
    if expression.get("expressionValues"):
        params.setdefault("ExpressionAttributeValues", {}).update(wire_map(expression["expressionValues"]))


def _encode_token(key: dict[str, Any] | None) -> str | None:
    return None if key is None else base64.b64encode(json.dumps(key).encode()).decode()


def _decode_token(token: str) -> dict[str, Any]:
    try:
        decoded: dict[str, Any] = json.loads(base64.b64decode(token, validate=True))
    except (ValueError, json.JSONDecodeError) as exc:
        raise AppSyncError("Invalid nextToken", "DynamoDB:ValidationException") from exc
    return decoded


def _equal_ignoring(current: dict[str, Any] | None, wanted: dict[str, Any], ignore: list[str]) -> bool:
    if current is None:
        return False
    drop = set(ignore)
    return {k: v for k, v in current.items() if k not in drop} == {
        k: v for k, v in wanted.items() if k not in drop
    }


class DynamoDBDataSource:
    """One AppSync DynamoDB data source bound to a table."""

    def __init__(self, client: Any, table: str, read_only: bool = False) -> None:
        self._client = client
        self._table = table
        self._read_only = read_only  # the `queries` data source's role may only read
        # DynamoDB applies a conditional write atomically; moto server checks and writes without a lock,
        # so two concurrent conditional writes could both pass. One lock per endpoint restores that.
        self._write_lock = _WRITE_LOCK

    def invoke(self, request: Any) -> Outcome:
        if not isinstance(request, dict) or request.get("operation") not in _ALLOWED_KEYS:
            operation = request.get("operation") if isinstance(request, dict) else None
            raise AppSyncError(
                f"DynamoDB operation {operation!r} is not supported by the local AppSync endpoint",
                "MappingTemplate",
            )
        unknown = set(request) - _ALLOWED_KEYS[request["operation"]]
        if unknown:
            raise mapping_error(f"{request['operation']} request has unknown fields: {sorted(unknown)}")
        if self._read_only and request["operation"] not in _READS:
            message = f"the data source's role may not call {request['operation']} (read-only)"
            return Outcome(error={"type": "DynamoDB:AccessDeniedException", "message": message})
        handler = getattr(self, f"_{request['operation']}")
        try:
            if request["operation"] in _READS:
                outcome: Outcome = handler(request)
            else:
                with self._write_lock:
                    outcome = handler(request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            outcome = Outcome(
                error={"type": f"DynamoDB:{error.get('Code')}", "message": error.get("Message")}
            )
            if error.get("Code") == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons", [])
                outcome.result = {"keys": None, "cancellationReasons": [self._reason(r) for r in reasons]}
        except AppSyncError as exc:
            if not (exc.error_type or "").startswith("DynamoDB:"):
                raise
            outcome = Outcome(error={"type": exc.error_type, "message": exc.message})
        except BotoCoreError as exc:  # no answer at all (endpoint down, timeout)
            outcome = Outcome(error={"type": "DynamoDB:ServiceUnavailable", "message": str(exc)})
        return outcome

    @staticmethod
    def _reason(reason: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": reason.get("Code"), "message": reason.get("Message")}
        if "Item" in reason:
            out["item"] = plain_item(reason["Item"])
        return out

    def _key(self, request: dict[str, Any]) -> dict[str, Any]:
        if "key" not in request:
            raise mapping_error(f"{request['operation']} needs a key")
        return wire_map(request["key"])

    def _condition(self, params: dict[str, Any], request: dict[str, Any]) -> None:
        _expression(params, "ConditionExpression", request.get("condition"))

    def _GetItem(self, request: dict[str, Any]) -> Outcome:
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(request),
            "ConsistentRead": bool(request.get("consistentRead")),
        }
        _expression(params, "ProjectionExpression", request.get("projection"))
        return Outcome(result=plain_item(self._client.get_item(**params).get("Item")))

    def _PutItem(self, request: dict[str, Any]) -> Outcome:
        item = {**wire_map(request.get("attributeValues")), **self._key(request)}
        params: dict[str, Any] = {"TableName": self._table, "Item": item}
        self._condition(params, request)
        if "ConditionExpression" in params:
            params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            self._client.put_item(**params)
        except ClientError as exc:
            # AppSync: if the stored item already equals the one wanted (ignoring `equalsIgnore`), the
            # failed condition counts as success.
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            current = plain_item(exc.response.get("Item"))
            ignore = (request.get("condition") or {}).get("equalsIgnore") or []
            if current is not None and _equal_ignoring(current, plain_item(item) or {}, ignore):
                return Outcome(result=current)
            raise
        return Outcome(result=plain_item(item))

    def _UpdateItem(self, request: dict[str, Any]) -> Outcome:
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(request),
            "ReturnValues": "ALL_NEW",
        }
        if not request.get("update"):
            raise mapping_error("UpdateItem needs an update expression")
        _expression(params, "UpdateExpression", request["update"])
        self._condition(params, request)
        return Outcome(result=plain_item(self._client.update_item(**params).get("Attributes")))

    def _DeleteItem(self, request: dict[str, Any]) -> Outcome:
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(request),
            "ReturnValues": "ALL_OLD",
        }
        self._condition(params, request)
        return Outcome(result=plain_item(self._client.delete_item(**params).get("Attributes")))

    def _paged(self, request: dict[str, Any], params: dict[str, Any]) -> None:
        for name, param in (("index", "IndexName"), ("limit", "Limit"), ("select", "Select")):
            if request.get(name) is not None:
                params[param] = request[name]
        if request.get("consistentRead") is not None:
            params["ConsistentRead"] = bool(request["consistentRead"])
        if request.get("nextToken"):
            params["ExclusiveStartKey"] = _decode_token(request["nextToken"])
        _expression(params, "FilterExpression", request.get("filter"))
        _expression(params, "ProjectionExpression", request.get("projection"))

    def _page(self, answer: dict[str, Any]) -> Outcome:
        return Outcome(
            result={
                "items": [plain_item(item) for item in answer.get("Items", [])],
                "nextToken": _encode_token(answer.get("LastEvaluatedKey")),
                "scannedCount": answer.get("ScannedCount", 0),
            }
        )

    def _Query(self, request: dict[str, Any]) -> Outcome:
        params: dict[str, Any] = {"TableName": self._table}
        _expression(params, "KeyConditionExpression", request.get("query"))
        if "KeyConditionExpression" not in params:
            raise mapping_error("Query needs a query expression")
        if request.get("scanIndexForward") is not None:
            params["ScanIndexForward"] = bool(request["scanIndexForward"])
        self._paged(request, params)
        return self._page(self._client.query(**params))

    def _Scan(self, request: dict[str, Any]) -> Outcome:
        params: dict[str, Any] = {"TableName": self._table}
        for name, param in (("segment", "Segment"), ("totalSegments", "TotalSegments")):
            if request.get(name) is not None:
                params[param] = request[name]
        self._paged(request, params)
        return self._page(self._client.scan(**params))

    def _TransactWriteItems(self, request: dict[str, Any]) -> Outcome:
        items = request.get("transactItems") or []
        actions = [self._transact_item(item) for item in items]
        if len(actions) == 1 and "ConditionCheck" not in actions[0]:
            self._single_write(actions[0])
        else:
            self._client.transact_write_items(TransactItems=actions)
        return Outcome(
            result={
                "keys": [plain_item(wire_map(item["key"])) for item in items],
                "cancellationReasons": None,
            }
        )

    def _single_write(self, action: dict[str, Any]) -> None:
        """A one-item transaction as the one conditional write it is.

        Same outcome, failure included (a TransactionCanceledException whose reason carries the stored
        item): DynamoDB applies both atomically. moto copies the whole table for every
        TransactWriteItems, which makes each transaction slower as the table grows (~0.8 s at 3,000 items).
        """
        ((kind, params),) = action.items()
        call = {
            "Put": self._client.put_item,
            "Update": self._client.update_item,
            "Delete": self._client.delete_item,
        }
        try:
            call[kind](**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "ConditionalCheckFailedException":
                raise
            reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": error.get("Message")}
            if "Item" in exc.response:
                reason["Item"] = exc.response["Item"]
            exc.response["Error"] = {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                "[ConditionalCheckFailed]",
            }
            exc.response["CancellationReasons"] = [reason]
            raise

    def _transact_item(self, item: dict[str, Any]) -> dict[str, Any]:
        operation = item.get("operation")
        kinds = {
            "PutItem": "Put",
            "UpdateItem": "Update",
            "DeleteItem": "Delete",
            "ConditionCheck": "ConditionCheck",
        }
        if operation not in kinds or not item.get("table"):
            raise mapping_error(f"transactItems need a table and one of {sorted(kinds)}, got {operation!r}")
        action: dict[str, Any] = {"TableName": item["table"]}
        key = wire_map(item.get("key"))
        if operation == "PutItem":
            action["Item"] = {**wire_map(item.get("attributeValues")), **key}
        else:
            action["Key"] = key
        if operation == "UpdateItem":
            _expression(action, "UpdateExpression", item.get("update"))
        condition = item.get("condition")
        _expression(action, "ConditionExpression", condition)
        if condition and condition.get("returnValuesOnConditionCheckFailure"):
            action["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if operation == "ConditionCheck" and "ConditionExpression" not in action:
            raise mapping_error("a ConditionCheck needs a condition")
        return {kinds[operation]: action}
