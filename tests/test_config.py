import pytest

from narrative.config import Settings, load_settings


def test_defaults_and_overrides_priority(tmp_path):
    cfg = tmp_path / "narrative.yaml"
    cfg.write_text("seed: 5\nperiod: month\nn_bootstrap: 10\n")
    env = {"NARRATIVE_SEED": "6", "NARRATIVE_MIN_ARTICLES": "4", "OTHER": "x"}
    s = load_settings(cfg, environ=env, n_bootstrap=None, period="day")
    assert s.seed == 6  # env beats file
    assert s.min_articles == 4
    assert s.n_bootstrap == 10  # None override leaves the file value
    assert s.period == "day"  # explicit override beats everything


def test_toml_config(tmp_path):
    cfg = tmp_path / "narrative.toml"
    cfg.write_text("seed = 9\nzeroshot_min_similarity = 0.5\n")
    s = load_settings(cfg, environ={})
    assert (s.seed, s.zeroshot_min_similarity) == (9, 0.5)


def test_unknown_setting_is_named():
    with pytest.raises(ValueError, match="unknown setting 'sed'"):
        Settings().replace(sed=1)


def test_min_cluster_size_auto_from_env():
    assert load_settings(environ={"NARRATIVE_MIN_CLUSTER_SIZE": "auto"}).min_cluster_size is None
    assert load_settings(environ={"NARRATIVE_MIN_CLUSTER_SIZE": "12"}).min_cluster_size == 12


def test_base_settings_sit_between_defaults_and_the_config_file(tmp_path):
    from narrative.config import load_settings

    cfg = tmp_path / "c.yaml"
    cfg.write_text("period: month\n")
    base = {"period": "day", "n_bootstrap": 17, "retired_setting": 1}
    assert load_settings(None, environ={}, base=base).n_bootstrap == 17
    assert load_settings(None, environ={}, base=base).period == "day"
    assert load_settings(cfg, environ={}, base=base).period == "month"
    assert load_settings(None, environ={"NARRATIVE_N_BOOTSTRAP": "5"}, base=base).n_bootstrap == 5


def test_max_cluster_share_can_be_switched_off_from_the_environment():
    from narrative.config import load_settings

    assert load_settings(environ={"NARRATIVE_MAX_CLUSTER_SHARE": "none"}).max_cluster_share is None
    assert load_settings(environ={"NARRATIVE_MAX_CLUSTER_SHARE": "0.4"}).max_cluster_share == 0.4


def test_outlier_strategy_from_the_environment_and_a_clear_error_for_anything_else():
    assert Settings().outliers == "reduce"
    assert load_settings(environ={"NARRATIVE_OUTLIERS": "keep"}).outliers == "keep"
    for bad in ("drop", "KEEP", ""):
        with pytest.raises(ValueError, match=f"outliers must be one of 'reduce', 'keep'; got '{bad}'"):
            load_settings(environ={"NARRATIVE_OUTLIERS": bad})
    with pytest.raises(ValueError, match="outliers must be one of"):
        Settings().replace(outliers="none")


def test_the_default_outlier_strategy_leaves_model_json_and_run_ids_as_before():
    import json

    assert "outliers" not in json.loads(Settings().model_json())  # runs stored before keep their ids
    assert json.loads(Settings(outliers="keep").model_json())["outliers"] == "keep"
    assert "outliers" in Settings().to_dict()  # but a run records it


# -- one validation table (issue 24, case 8) -------------------------------------------------------


def test_every_number_setting_has_a_range_and_every_text_choice_is_a_literal():
    import typing

    from narrative.config import LIMITS, _field_types, _parts

    for name, hint in _field_types().items():
        kind, _ = _parts(hint)
        if kind in (int, float):
            assert name in LIMITS, f"{name}: a number setting without a range in LIMITS"
        elif kind is str:
            assert name == "embedding_model", f"{name}: a text setting should be a Literal of its choices"
        else:
            assert kind is bool or typing.get_origin(kind) is typing.Literal, (name, kind)
    assert set(LIMITS) <= set(_field_types())


@pytest.mark.parametrize("name, value, rule", [
    ("seed", -1, "a whole number from 0 to 2147483647"),
    ("seed", 2**31, "a whole number from 0 to 2147483647"),
    ("seed", float("inf"), "a whole number"),
    ("seed", 2.5, "a whole number"),
    ("seed", True, "a whole number"),
    ("seed", "7", "a whole number"),  # a text is converted only when read from a file or the environment
    ("n_bootstrap", float("inf"), "a whole number"),
    ("zeroshot_min_similarity", float("nan"), "a finite number from 0 to 1"),
    ("zeroshot_min_similarity", 1.5, "a finite number from 0 to 1"),
    ("max_cluster_share", 0.0, "a finite number above 0 up to 1 (or none)"),
    ("min_cluster_size", 1, "a whole number from 2"),
    ("ngram_max", 4, "a whole number from 1 to 3"),
    ("batch_size", 0, "a whole number from 1"),
    ("period", "weekly", "one of 'day', 'week', 'month'"),
    ("shares", "SOFT", "one of 'hard', 'soft'"),
    ("precision", "fp16", "one of 'auto', 'fp32', 'bf16'"),
    ("guided", "yes", "true or false"),
    ("embedding_model", "", "a non-empty text"),
    ("seed", None, "a whole number"),
])
def test_a_bad_value_names_the_setting_the_value_and_the_limit(name, value, rule):
    from narrative.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        Settings(**{name: value})
    message = str(error.value)
    assert message.startswith(f"{name} must be {rule}")
    assert f"got {value!r}" in message


def test_texts_from_the_environment_become_numbers_and_bools_or_a_clear_error():
    from narrative.errors import ConfigError

    s = load_settings(environ={"NARRATIVE_SEED": "7", "NARRATIVE_GUIDED": "off",
                               "NARRATIVE_N_BOOTSTRAP": "1e3", "NARRATIVE_MAX_CLUSTER_SHARE": "0.5"})
    assert (s.seed, s.guided, s.n_bootstrap, s.max_cluster_share) == (7, False, 1000, 0.5)
    for key, text in [("SEED", "seven"), ("SEED", "-1"), ("GUIDED", "maybe"),
                      ("ZEROSHOT_MIN_SIMILARITY", "nan"), ("N_BOOTSTRAP", "inf"), ("SEED", "1e400")]:
        with pytest.raises(ConfigError, match=f"got .*; change it in NARRATIVE_{key}$"):
            load_settings(environ={f"NARRATIVE_{key}": text})


def test_the_error_says_where_the_value_came_from(tmp_path):
    from narrative.errors import ConfigError

    cfg = tmp_path / "c.yaml"
    cfg.write_text("seed: -3\n")
    with pytest.raises(ConfigError, match=f"got -3; change it in config file {cfg}"):
        load_settings(cfg, environ={})
    with pytest.raises(ConfigError, match="got -1; change it in --seed"):
        load_settings(None, environ={}, seed=-1)
    with pytest.raises(ConfigError, match="change it in the stored run's settings"):
        load_settings(None, environ={}, base={"period": "fortnight"})
    cfg.write_text("sed: 1\n")
    with pytest.raises(ConfigError, match=f"unknown setting 'sed' in config file {cfg}"):
        load_settings(cfg, environ={})


@pytest.mark.parametrize("text, where", [
    ("seed: [1\n", "line 2"),
    ("seed: !!python/name:os.system\n", "line 1, column 7"),
    ("- 1\n- 2\n", None),
])
def test_an_unusable_yaml_file_is_a_config_error_naming_it(tmp_path, text, where):
    from narrative.errors import ConfigError

    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(cfg, environ={})
    assert str(error.value).startswith(f"{cfg}: ")
    assert where is None or where in str(error.value)


def test_a_config_file_that_is_a_folder_or_missing_is_a_config_error(tmp_path):
    from narrative.errors import ConfigError

    for path in (tmp_path, tmp_path / "missing.yaml"):
        with pytest.raises(ConfigError, match="cannot read the config file"):
            load_settings(path, environ={})


def test_integral_numbers_are_taken_for_whole_number_settings(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("seed = 7.0\nn_bootstrap = 1e3\nrefit_growth = 1\n")
    s = load_settings(cfg, environ={})
    assert (s.seed, s.n_bootstrap, s.refit_growth) == (7, 1000, 1.0)
    assert type(s.seed) is int and type(s.refit_growth) is float


def test_a_renamed_setting_is_read_under_its_old_name_from_every_source(tmp_path):
    """``report_workers`` became ``processes``: a stored run's settings, a config file and the
    environment that still say ``report_workers`` keep working."""
    from narrative.config import load_settings

    assert load_settings(base={"report_workers": 1}, environ={}).processes == 1
    config = tmp_path / "old.yaml"
    config.write_text("report_workers: 3\n", encoding="utf-8")
    assert load_settings(config, environ={}).processes == 3
    assert load_settings(environ={"NARRATIVE_REPORT_WORKERS": "2"}).processes == 2
    assert "report_workers" not in Settings().to_dict()
