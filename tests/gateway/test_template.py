from pathlib import Path

import pytest

from infra.cfn import load_yaml
from infra.sam_app import load_app

from .conftest import FIXTURES, TEMPLATE


def test_functions_globals_and_intrinsics() -> None:
    app = load_app(TEMPLATE, region="eu-west-1")
    echo = app.functions["EchoFunction"]
    env = echo.environment
    assert echo.handler == "echo.handler"
    assert echo.code_dir == (FIXTURES / "functions").resolve()
    assert echo.layer_dirs == [(FIXTURES / "layer").resolve()]
    assert echo.timeout == 5 and echo.memory == 256
    assert env["GLOBAL_VAR"] == "from-globals"  # Globals.Function merged
    assert env["LOG_LEVEL"] == "INFO"  # !Ref parameter default
    assert env["ORDERS_TABLE"] == "orders-dev"  # !Ref table -> TableName (!Sub)
    assert env["USERS_TABLE"] == "UsersTable"  # no TableName -> logical id
    assert env["TABLE_ARN"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-dev"
    assert env["LONG_SUB"] == "a_b_dev-eu-west-1-123456789012-local"  # !Sub list form + !Join
    assert env["MODE"] == "development"  # !If on a condition
    assert app.functions["SlowFunction"].timeout == 1  # function overrides Globals


def test_api_properties_and_routes() -> None:
    app = load_app(TEMPLATE)
    api = app.apis["Api"]
    assert api.stage == "dev"
    assert api.binary_media_types == ["image/png", "application/octet-stream"]  # ~1 unescaped
    gr = api.gateway_responses["MISSING_AUTHENTICATION_TOKEN"]
    assert gr["status"] == 404
    # mapping expressions are kept as written: 'quoted' literals and request/context sources
    assert gr["headers"]["Access-Control-Allow-Origin"] == "'*'"
    assert gr["headers"]["X-Request-ID"] == "context.requestId"
    methods = {(r.path, r.method) for r in app.routes}
    assert ("/echo", "ANY") in methods and ("/v1/orders/{id}", "GET") in methods


def test_implicit_api_defaults_to_prod_stage() -> None:
    app = load_app(FIXTURES / "template_plain.yaml")
    assert app.apis["ServerlessRestApi"].stage == "Prod"
    assert app.default_api().gateway_responses == {}


def test_short_form_tags_and_unknown_refs(tmp_path: Path) -> None:
    t = tmp_path / "t.yaml"
    t.write_text(
        "Parameters: {P: {Type: String, Default: pv}}\n"
        "Conditions: {IsOther: !Not [!Equals [!Ref P, pv]]}\n"
        "Resources:\n"
        "  F:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: m.h\n"
        "      CodeUri: src\n"
        "      Environment:\n"
        "        Variables:\n"
        "          A: !Ref Missing\n"
        "          B: !Sub '${P}-${!Literal}'\n"
        "          C: !If [IsOther, x, !Ref AWS::NoValue]\n"
        "          D: !Select [1, !Split [',', 'a,b,c']]\n"
        "          E: !GetAtt F.Arn\n"
    )
    assert load_yaml(t)["Resources"]["F"]["Properties"]["Environment"]["Variables"]["A"] == {"Ref": "Missing"}
    env = load_app(t, region="us-east-1").functions["F"].environment
    assert env == {
        "A": "Missing",
        "B": "pv-${Literal}",
        "D": "b",
        "E": "arn:aws:lambda:us-east-1:123456789012:function:F",
    }
    assert load_app(t).functions["F"].code_dir == (tmp_path / "src").resolve()


@pytest.mark.parametrize("bad", ["- a list\n", "just text\n"])
def test_non_mapping_template_rejected(tmp_path: Path, bad: str) -> None:
    t = tmp_path / "t.yaml"
    t.write_text(bad)
    with pytest.raises(ValueError):
        load_app(t)
