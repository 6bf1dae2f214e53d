"""events/: one sample API Gateway event per template route, reproducible and routable."""

import json

from infra.sam_app import load_app
from local.gateway.routing import Router
from local.sample_events import EVENTS_DIR, TOKEN_PLACEHOLDER, drift, generate, template_events
from tests.support.api import TEMPLATE


def test_committed_events_match_what_the_generator_writes() -> None:
    # Given the events generated from template.yaml right now
    events = generate(TEMPLATE)
    # When they are compared with the committed events/ folder
    problems = drift(events, EVENTS_DIR)
    # Then nothing is missing, stale or orphaned (fix: `python -m local.sample_events`)
    assert problems == []


def test_every_api_event_of_the_template_has_exactly_one_sample() -> None:
    # Given the template's Api events
    declared = {(fid, name) for fid, name, _, _ in template_events(TEMPLATE)}
    # When the committed files are listed
    committed = {(path.parent.name, path.stem) for path in EVENTS_DIR.rglob("*.json")}
    # Then they are the same set and cover all 20 routes of the contract
    assert committed == declared
    assert len(declared) == len(load_app(TEMPLATE).routes) == 20


def test_each_sample_routes_back_to_its_own_function_and_resource() -> None:
    app = load_app(TEMPLATE)
    router = Router(app.routes)
    for path in EVENTS_DIR.rglob("*.json"):
        # Given a committed event
        event = json.loads(path.read_text())
        # When its method and concrete path are routed like the gateway does
        match = router.match(event["httpMethod"], event["path"])
        # Then it lands on the function and resource it was written for, with its path parameters
        assert match is not None, path
        assert (match.route.function, match.route.path) == (path.parent.name, event["resource"]), path
        assert match.path_parameters == event["pathParameters"], path


def test_protected_samples_carry_the_placeholder_token_and_public_ones_none() -> None:
    for route_event in generate(TEMPLATE):
        authorization = route_event.event["headers"].get("Authorization")
        if route_event.public:
            assert authorization is None, route_event.name
        else:
            assert authorization == f"Bearer {TOKEN_PLACEHOLDER}", route_event.name


def test_token_option_puts_a_real_token_everywhere_it_is_needed() -> None:
    events = generate(TEMPLATE, token="abc.def.ghi")
    protected = [e for e in events if not e.public]
    assert protected and all(e.event["headers"]["Authorization"] == "Bearer abc.def.ghi" for e in protected)
    assert all(e.event["multiValueHeaders"]["Authorization"] == ["Bearer abc.def.ghi"] for e in protected)


def test_bodies_are_json_and_sent_as_json() -> None:
    for route_event in generate(TEMPLATE):
        body = route_event.event["body"]
        if body is not None:
            json.loads(body)
            assert route_event.event["headers"]["Content-Type"] == "application/json"
