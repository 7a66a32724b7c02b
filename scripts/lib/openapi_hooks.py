"""Schemathesis hooks of scripts/openapi-check: the rules of docs/openapi.yaml that JSON Schema
cannot state.

The SPEC limits sandboxId, cloudGameId, gameModeId, every location and the session cookie in
bytes of UTF-8 (`ValueTooLong` over 256 bytes, the cookie over 4096), and the document says so in
words. JSON Schema's maxLength counts characters, so a value of at most maxLength characters can
still be over the limit in bytes: such a request is valid for the schema and rightly refused by
gsmsd. Those values are left out of the generated requests; values over maxLength characters
(refused either way) and values within both limits are still generated.

gsmsd also matches member names ignoring case (documented), while JSON Schema's property names are
exact: an "additional" member `cloudgameid: false` is, for gsmsd, `cloudGameId` with the wrong
type. Bodies with a member spelled like a documented one in another case are left out too.
"""
from pathlib import Path

import schemathesis
import yaml

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def documented_members():
    """The members of the request bodies that take additional members, as spelled."""
    schemas = yaml.safe_load(DOCUMENT.read_text())["components"]["schemas"]
    return {
        name
        for schema in schemas.values()
        if schema.get("additionalProperties") is True
        for name in schema.get("properties", {})
    }


MEMBERS = documented_members()
MEMBERS_LOWER = {name.lower() for name in MEMBERS}

# Member (lower case: gsmsd matches member names ignoring case) -> limit in bytes of UTF-8.
BYTE_LIMITS = {
    "sandboxid": 256,
    "cloudgameid": 256,
    "gamemodeid": 256,
    "gamemodelid": 256,
    "sessioncookie": 4096,
}
LOCATION_BYTES = 256


def within_characters_over_bytes(value, limit):
    """Whether `value` is a string within `limit` characters but over `limit` bytes of UTF-8."""
    if not isinstance(value, str) or len(value) > limit:
        return False
    return len(value.encode("utf-8", "surrogatepass")) > limit


def byte_limits_ambiguous(body):
    """Whether a request body has a member that only the byte limit refuses."""
    if not isinstance(body, dict):
        return False
    for key, value in body.items():
        name = key.lower() if isinstance(key, str) else key
        limit = BYTE_LIMITS.get(name)
        if limit is not None and within_characters_over_bytes(value, limit):
            return True
        if name == "locations" and isinstance(value, list):
            if any(within_characters_over_bytes(item, LOCATION_BYTES) for item in value):
                return True
    return False


def member_in_another_case(body):
    """Whether a request body spells a documented member in another case (gsmsd reads it as that member)."""
    if not isinstance(body, dict):
        return False
    return any(
        isinstance(key, str) and key not in MEMBERS and key.lower() in MEMBERS_LOWER for key in body
    )


@schemathesis.hook
def filter_body(ctx, body):
    return not byte_limits_ambiguous(body) and not member_in_another_case(body)
