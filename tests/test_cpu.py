"""``precision="auto"`` picks bf16 only where the CPU computes it natively."""

import pytest

from narrative.config import Settings, load_settings
from narrative.cpu import has_native_bf16, resolve_precision

ICE_LAKE = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni avx512vl\n"
SAPPHIRE_RAPIDS = "flags\t\t: fpu avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile\n"
ZEN4 = "flags\t\t: fpu avx2 avx512f avx512_bf16\n"
NEOVERSE_V1 = "Features\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize(
    "cpuinfo, native",
    [(ICE_LAKE, False), (SAPPHIRE_RAPIDS, True), (ZEN4, True), (NEOVERSE_V1, True), ("", False)],
)
def test_native_bf16_is_read_off_the_flags_line(cpuinfo, native):
    assert has_native_bf16(cpuinfo) is native
    assert resolve_precision("auto", cpuinfo) == ("bf16" if native else "fp32")


def test_a_flag_named_elsewhere_does_not_count():
    assert not has_native_bf16("model name\t: bf16 test rig\nflags\t\t: fpu avx2\n")


def test_explicit_precisions_pass_through():
    assert resolve_precision("fp32", SAPPHIRE_RAPIDS) == "fp32"
    assert resolve_precision("bf16", ICE_LAKE) == "bf16"


def test_settings_resolve_auto_when_built_so_runs_record_what_was_used():
    resolved = resolve_precision("auto")
    assert Settings().precision == resolved
    assert Settings(precision="fp32").precision == "fp32"
    assert load_settings(environ={"NARRATIVE_PRECISION": "auto"}).precision == resolved
    assert '"precision": "auto"' not in Settings().model_json()
