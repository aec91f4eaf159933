import pytest

from sim.params import ConfigError, build_config, config_to_dict, iter_parameters, replace


def test_defaults_are_valid_and_round_trip():
    cfg = build_config({})
    assert build_config(config_to_dict(cfg)) == cfg


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"bogus": 1}, "unknown key 'bogus'"),
        ({"trust": {"gosip": 0.1}}, "unknown key 'trust.gosip'"),
        ({"trust": {"gossip": 1.5}}, "trust.gossip=1.5 out of range: allowed 0..1"),
        ({"seed": "abc"}, "seed='abc' is not an integer"),
        ({"steps": 0}, "steps=0 out of range"),
        ({"families": {"p_worsen": [0.1, 0.1]}}, "families.p_worsen has 2 values: allowed exactly 4"),
        ({"families": {"initial_state_shares": [0.5, 0.5, 0.5, 0.5]}}, "sums to 2"),
        ({"scenario": {"endowments": "yes"}}, "allowed values true, false"),
        ({"region": 3}, "region must be a mapping"),
        ({"finance": {"subsidy_size": float("nan")}}, "must be finite"),
    ],
)
def test_bad_values_rejected_with_one_line(data, fragment):
    with pytest.raises(ConfigError) as exc:
        build_config(data)
    msg = str(exc.value)
    assert fragment in msg
    assert "\n" not in msg


def test_unknown_key_message_lists_allowed_keys():
    with pytest.raises(ConfigError) as exc:
        build_config({"trust": {"gosip": 0.1}})
    assert "gossip" in str(exc.value) and "forgetting" in str(exc.value)


def test_every_parameter_has_units_and_source():
    for name, _default, meta in iter_parameters():
        assert meta.get("units"), name
        assert meta.get("source"), name


def test_replace_revalidates():
    cfg = build_config({})
    assert replace(cfg, **{"finance.subsidy_size": 1.0}).finance.subsidy_size == 1.0
    with pytest.raises(ConfigError):
        replace(cfg, **{"finance.subsidy_size": -1.0})
