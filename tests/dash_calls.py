"""Call a Dash callback through the real HTTP endpoint, as the browser does.

The tests and the app benchmark use it to send exactly what a browser could send, including
values no page offers.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from dash import Dash


def callback_key(app: Dash, first_output: str) -> str:
    """The app's key of the callback whose first output is ``id.property``."""
    for key in app.callback_map:
        outputs = key.strip(".").split("...")
        if outputs[0].split("@")[0] == first_output:
            return str(key)
    raise KeyError(f"no callback outputs {first_output}")


def payload(app: Dash, first_output: str, values: dict[str, Any]) -> dict[str, Any]:
    """The body the browser posts for a callback; ``values`` by ``id.property`` (missing: None)."""
    key = callback_key(app, first_output)
    spec = app.callback_map[key]

    def parts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "id": item["id"],
                "property": item["property"],
                "value": values.get(f"{item['id']}.{item['property']}"),
            }
            for item in items
        ]

    outputs = []
    for text in key.strip(".").split("..."):
        component, prop = text.rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    return {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": parts(spec["inputs"]),
        "state": parts(spec.get("state", [])),
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]][:1],
    }


def call(client: Any, app: Dash, first_output: str, values: dict[str, Any]) -> Any:
    """Post the callback and return its response (a Flask test response)."""
    return client.post(
        "/_dash-update-component",
        data=json.dumps(payload(app, first_output, values)),
        content_type="application/json",
    )


def shown(client: Any, app: Dash, first_output: str, values: dict[str, Any]) -> str:
    """The callback's answer as JSON text (status 200 asserted), to search for what it shows."""
    response = call(client, app, first_output, values)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return json.dumps(response.get_json())


def submit_payload(
    app: Dash, agency: str, area: str, period: str, content: bytes
) -> dict[str, Any]:
    """The body a browser posts to submit a return on the upload page, with no explanation
    boxes (the returns sent this way raise no query)."""
    body = payload(
        app,
        "upload-result.children",
        {
            "upload-submit.n_clicks": 1,
            "upload-file.contents": "data:application/octet-stream;base64,"
            + base64.b64encode(content).decode(),
            "upload-file.filename": f"{agency}.xlsx",
            "upload-agency.value": agency,
            "upload-area.value": area,
            "upload-period.value": period,
        },
    )
    body["state"] = [
        [] if isinstance(part["id"], str) and part["id"].startswith("{") else part
        for part in body["state"]
    ]
    return body
