"""``precision="auto"`` picks bf16 only where it was measured faster than fp32."""

import pytest

from narrative.config import Settings, load_settings
from narrative.runtime.cpu import bf16_is_faster, has_native_bf16, resolve_precision

INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\n"
ICE_LAKE = INTEL + "flags\t\t: fpu sse2 avx2 avx512f avx512_vnni avx512vl\n"
SAPPHIRE_RAPIDS = INTEL + "flags\t\t: fpu avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile\n"
# a VM on a newer Xeon that hides AMX: bf16 measured at 0.64x fp32 there
INTEL_BF16_NO_AMX = INTEL + "flags\t\t: fpu avx512f avx512_vnni avx512_bf16 avx_vnni\n"
ZEN4 = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
NEOVERSE_V1 = "Features\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize(
    "cpuinfo, native, faster",
    [(ICE_LAKE, False, False), (SAPPHIRE_RAPIDS, True, True), (INTEL_BF16_NO_AMX, True, False),
     (ZEN4, True, True), (NEOVERSE_V1, True, False), ("", False, False)],
)
def test_auto_is_bf16_only_where_it_was_measured_faster(cpuinfo, native, faster):
    assert has_native_bf16(cpuinfo) is native
    assert bf16_is_faster(cpuinfo) is faster
    assert resolve_precision("auto", cpuinfo) == ("bf16" if faster else "fp32")


def test_a_flag_named_elsewhere_does_not_count():
    assert not has_native_bf16("model name\t: bf16 test rig\nflags\t\t: fpu avx2\n")
    assert not bf16_is_faster("model name\t: amx_bf16 rig\nflags\t\t: fpu avx2\n")


def test_explicit_precisions_pass_through():
    assert resolve_precision("fp32", SAPPHIRE_RAPIDS) == "fp32"
    assert resolve_precision("bf16", ICE_LAKE) == "bf16"


def test_settings_resolve_auto_when_built_so_runs_record_what_was_used():
    resolved = resolve_precision("auto")
    assert Settings().precision == resolved
    assert Settings(precision="fp32").precision == "fp32"
    assert load_settings(environ={"NARRATIVE_PRECISION": "auto"}).precision == resolved
    assert '"precision": "auto"' not in Settings().model_json()
