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
