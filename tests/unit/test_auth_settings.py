"""Security-relevant defaults of shared.settings."""

from shared.settings import settings_from_env


def test_default_bcrypt_cost_is_12_and_token_lifetime_24h() -> None:
    # Given an environment that sets neither / When settings are built
    settings = settings_from_env({})
    # Then bcrypt uses cost 12 and tokens live 24 hours
    assert settings.bcrypt_rounds == 12
    assert settings.jwt_lifetime_seconds == 86400


def test_empty_bcrypt_rounds_falls_back_to_default() -> None:
    # Given the template's empty-string default / Then the default cost applies
    assert settings_from_env({"BCRYPT_ROUNDS": ""}).bcrypt_rounds == 12
