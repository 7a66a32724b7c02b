"""Schemathesis hooks of scripts/openapi-check: the rules of docs/openapi.yaml that JSON Schema
cannot state.

The SPEC limits sandboxId, cloudGameId, gameModeId, every location and the session cookie in
bytes of UTF-8 (`ValueTooLong` over 256 bytes, the cookie over 4096), and the document says so in
words. JSON Schema's maxLength counts characters, so a value of at most maxLength characters can
still be over the limit in bytes: such a request is valid for the schema and rightly refused by
gsmsd. Those values are left out of the generated requests; values over maxLength characters
(refused either way) and values within both limits are still generated.
"""
import schemathesis

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


@schemathesis.hook
def filter_body(ctx, body):
    return not byte_limits_ambiguous(body)
