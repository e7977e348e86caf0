"""OpenAPI post-processing: every operation documents the error answers it can give.

Views document their success bodies and their specific errors; the answers every endpoint shares
(bad parameters, authentication, permission, missing object, body too large) are added here, all with
the JSON error body the API answers them with.
"""
from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "A JSON error: `detail` says what is wrong; `code` names the kind of error; a validation "
                   "error names each field with its messages instead.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "additionalProperties": True,
}
_REF = {"$ref": "#/components/schemas/Error"}
NUL_NOTE = ("No string may hold a NUL character (\\u0000), in a JSON body or in a query parameter: such a "
            "request is refused with a 400 before it is read.")
_COMMON = {
    "400": "Invalid parameters or body; the body names each problem. " + NUL_NOTE,
    "401": "Not signed in, or an invalid token.",
    "403": "Signed in without the role (or CSRF token) this needs.",
    "404": "No such object.",
    "413": "The request body is over the size limit.",
    "415": "The body's content type is not one this operation takes.",
}
_METHODS = ("get", "put", "post", "patch", "delete")


def _applies(status: str, path: str, operation: dict) -> bool:
    if status == "400":
        return bool(operation.get("requestBody") or operation.get("parameters"))
    if status == "404":
        return "{" in path
    if status in ("413", "415"):
        return bool(operation.get("requestBody"))
    return True


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    info = result.setdefault("info", {})
    info["description"] = f"{info.get('description', '')} {NUL_NOTE}".strip()
    for path, item in result.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _COMMON.items():
                if status not in responses and _applies(status, path, operation):
                    responses[status] = {"description": description, "content": {"application/json": {"schema": _REF}}}
            refusal = responses.get("400")
            if refusal is not None and NUL_NOTE not in refusal.get("description", "") and \
                    _applies("400", path, operation):
                refusal["description"] = f"{refusal.get('description', '').rstrip('.')}. {NUL_NOTE}".lstrip(". ")
            for status, response in responses.items():
                # Error answers documented by description only get the shared JSON body.
                if status[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": _REF}}
    return result
