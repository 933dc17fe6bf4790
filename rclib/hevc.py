"""HEVC bitstream plumbing for the BPG container: NAL units, Exp-Golomb bits, SPS fields.

BPG stores no VPS/SPS; it keeps a handful of SPS fields in its own header and the decoder
rebuilds the parameter sets.  This module does both directions at the bit level.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import FormatError

NAL_VPS, NAL_SPS, NAL_PPS, NAL_AUD = 32, 33, 34, 35
NAL_SEI_PREFIX, NAL_SEI_SUFFIX = 39, 40


class BitReader:
    """MSB-first bit reader; reading past the end raises FormatError."""

    def __init__(self, data: bytes, pos_bits: int = 0):
        self.data = data
        self.pos = pos_bits

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise FormatError("truncated bitstream")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise FormatError("invalid Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)

    def byte_pos(self) -> int:
        return (self.pos + 7) >> 3


class BitWriter:
    """MSB-first bit writer with Exp-Golomb codes."""

    def __init__(self):
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    def ue(self, value: int) -> None:
        v = value + 1
        n = v.bit_length()
        self.u(n - 1, 0)
        self.u(n, v)

    def to_bytes(self, rbsp_trailing: bool = False) -> bytes:
        bits = list(self.bits)
        if rbsp_trailing:
            bits.append(1)
        bits.extend([0] * (-len(bits) % 8))
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def split_nals(stream: bytes) -> list[bytes]:
    """Split an Annex B byte stream into NAL units (start codes removed, emulation bytes kept)."""
    starts = []
    i, n = 0, len(stream)
    while i + 2 < n:
        if stream[i] == 0 and stream[i + 1] == 0 and stream[i + 2] == 1:
            starts.append((i, i + 3))
            i += 3
        else:
            i += 1
    nals = []
    for k, (_, begin) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else n
        nal = stream[begin:end]
        if k + 1 < len(starts):
            nal = nal.rstrip(b"\x00")  # a 4-byte start code's leading zero belongs to no NAL
        nals.append(nal)
    return nals


def nal_type(nal: bytes) -> int:
    if len(nal) < 2:
        raise FormatError("NAL unit shorter than its header")
    return (nal[0] >> 1) & 0x3F


def unescape(nal: bytes) -> bytes:
    """Remove emulation-prevention bytes (00 00 03 -> 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def escape(rbsp: bytes) -> bytes:
    """Insert emulation-prevention bytes so no start code appears inside a NAL."""
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


@dataclass
class SPSFields:
    """The SPS fields BPG keeps in its `hevc_header` (everything else is implied)."""

    log2_min_cb_size: int = 3
    log2_diff_max_min_cb_size: int = 3
    log2_min_tb_size: int = 2
    log2_diff_max_min_tb_size: int = 3
    max_transform_hierarchy_depth_intra: int = 0
    sao_enabled: int = 0
    pcm_enabled: int = 0
    pcm_bit_depth_luma_minus1: int = 7
    pcm_bit_depth_chroma_minus1: int = 7
    log2_min_pcm_cb_size_minus3: int = 0
    log2_diff_max_min_pcm_cb_size: int = 0
    pcm_loop_filter_disabled: int = 0
    strong_intra_smoothing: int = 0
    sps_extension_present: int = 0
    sps_range_extension: int = 0
    range_extension_flags: int = 0  # the 9 range-extension flags, MSB first

    # -- BPG hevc_header ------------------------------------------------------------
    def write_bpg(self, w: BitWriter) -> None:
        w.ue(self.log2_min_cb_size - 3)
        w.ue(self.log2_diff_max_min_cb_size)
        w.ue(self.log2_min_tb_size - 2)
        w.ue(self.log2_diff_max_min_tb_size)
        w.ue(self.max_transform_hierarchy_depth_intra)
        w.u(1, self.sao_enabled)
        self._write_pcm(w)

    def _write_pcm(self, w: BitWriter) -> None:
        w.u(1, self.pcm_enabled)
        if self.pcm_enabled:
            w.u(4, self.pcm_bit_depth_luma_minus1)
            w.u(4, self.pcm_bit_depth_chroma_minus1)
            w.ue(self.log2_min_pcm_cb_size_minus3)
            w.ue(self.log2_diff_max_min_pcm_cb_size)
            w.u(1, self.pcm_loop_filter_disabled)

    @classmethod
    def read_bpg(cls, r: BitReader) -> "SPSFields":
        f = cls()
        f.log2_min_cb_size = r.ue() + 3
        f.log2_diff_max_min_cb_size = r.ue()
        f.log2_min_tb_size = r.ue() + 2
        f.log2_diff_max_min_tb_size = r.ue()
        f.max_transform_hierarchy_depth_intra = r.ue()
        f.sao_enabled = r.u(1)
        f._read_pcm(r)
        f.strong_intra_smoothing = r.u(1)
        f.sps_extension_present = r.u(1)
        if f.sps_extension_present:
            f.sps_range_extension = r.u(1)
            if r.u(7) != 0:
                raise FormatError("unsupported SPS extension in BPG header")
            if f.sps_range_extension:
                f.range_extension_flags = r.u(9)
        f.check()
        return f

    def _read_pcm(self, r: BitReader) -> None:
        self.pcm_enabled = r.u(1)
        if self.pcm_enabled:
            self.pcm_bit_depth_luma_minus1 = r.u(4)
            self.pcm_bit_depth_chroma_minus1 = r.u(4)
            self.log2_min_pcm_cb_size_minus3 = r.ue()
            self.log2_diff_max_min_pcm_cb_size = r.ue()
            self.pcm_loop_filter_disabled = r.u(1)

    def check(self) -> None:
        if not (3 <= self.log2_min_cb_size <= 6 and self.log2_min_cb_size + self.log2_diff_max_min_cb_size <= 6):
            raise FormatError("invalid coding block sizes in BPG header")
        if not (2 <= self.log2_min_tb_size <= 5 and self.log2_min_tb_size + self.log2_diff_max_min_tb_size <= 5):
            raise FormatError("invalid transform block sizes in BPG header")


def bpg_hevc_header(fields: SPSFields) -> bytes:
    """The BPG `hevc_header` payload (without its ue7 length)."""
    w = BitWriter()
    fields.write_bpg(w)
    w.u(1, fields.strong_intra_smoothing)
    _write_sps_extension(w, fields)
    return w.to_bytes()


def _write_sps_extension(w: BitWriter, f: SPSFields) -> None:
    """sps_extension_present_flag and, when set, the range extension flags (BPG and SPS alike)."""
    w.u(1, f.sps_extension_present)
    if f.sps_extension_present:
        w.u(1, f.sps_range_extension)
        w.u(7, 0)
        if f.sps_range_extension:
            w.u(9, f.range_extension_flags)


def _profile_tier_level(w: BitWriter) -> None:
    w.u(2, 0)            # general_profile_space
    w.u(1, 0)            # general_tier_flag
    w.u(5, 4)            # general_profile_idc: format range extensions
    w.u(32, 1 << (31 - 4))
    w.u(4, 0b1001)       # progressive, not interlaced, packed allowed, frame only
    w.u(43, 0)           # RExt constraint flags + reserved bits
    w.u(1, 0)            # general_inbld_flag / reserved
    w.u(8, 255)          # general_level_idc: level 8.5 as in BPG's profile


def build_vps() -> bytes:
    w = BitWriter()
    w.u(4, 0)       # vps_video_parameter_set_id
    w.u(1, 1)       # vps_base_layer_internal_flag
    w.u(1, 1)       # vps_base_layer_available_flag
    w.u(6, 0)       # vps_max_layers_minus1
    w.u(3, 0)       # vps_max_sub_layers_minus1
    w.u(1, 1)       # vps_temporal_id_nesting_flag
    w.u(16, 0xFFFF)
    _profile_tier_level(w)
    w.u(1, 1)       # vps_sub_layer_ordering_info_present_flag
    w.ue(0); w.ue(0); w.ue(0)
    w.u(6, 0)       # vps_max_layer_id
    w.ue(0)         # vps_num_layer_sets_minus1
    w.u(1, 0)       # vps_timing_info_present_flag
    w.u(1, 0)       # vps_extension_flag
    return bytes([NAL_VPS << 1, 1]) + escape(w.to_bytes(rbsp_trailing=True))


def build_sps(f: SPSFields, width: int, height: int, chroma_format_idc: int, bit_depth: int) -> bytes:
    """Rebuild the SPS that BPG's header implies (spec section 3.2 of bpg_spec)."""
    cb = 1 << f.log2_min_cb_size
    w = BitWriter()
    w.u(4, 0)       # sps_video_parameter_set_id
    w.u(3, 0)       # sps_max_sub_layers_minus1
    w.u(1, 1)       # sps_temporal_id_nesting_flag
    _profile_tier_level(w)
    w.ue(0)         # sps_seq_parameter_set_id
    w.ue(chroma_format_idc)
    if chroma_format_idc == 3:
        w.u(1, 0)   # separate_colour_plane_flag
    w.ue(-(-width // cb) * cb)
    w.ue(-(-height // cb) * cb)
    w.u(1, 0)       # conformance_window_flag
    w.ue(bit_depth - 8)
    w.ue(bit_depth - 8)
    w.ue(4)         # log2_max_pic_order_cnt_lsb_minus4
    w.u(1, 1)       # sps_sub_layer_ordering_info_present_flag
    w.ue(0); w.ue(0); w.ue(0)
    w.ue(f.log2_min_cb_size - 3)
    w.ue(f.log2_diff_max_min_cb_size)
    w.ue(f.log2_min_tb_size - 2)
    w.ue(f.log2_diff_max_min_tb_size)
    w.ue(f.max_transform_hierarchy_depth_intra)  # inter depth = intra depth
    w.ue(f.max_transform_hierarchy_depth_intra)
    w.u(1, 0)       # scaling_list_enabled_flag
    w.u(1, 1)       # amp_enabled_flag
    w.u(1, f.sao_enabled)
    f._write_pcm(w)
    w.ue(0)         # num_short_term_ref_pic_sets
    w.u(1, 0)       # long_term_ref_pics_present_flag
    w.u(1, 1)       # sps_temporal_mvp_enabled_flag
    w.u(1, f.strong_intra_smoothing)
    w.u(1, 0)       # vui_parameters_present_flag
    _write_sps_extension(w, f)
    return bytes([NAL_SPS << 1, 1]) + escape(w.to_bytes(rbsp_trailing=True))


@dataclass
class ParsedSPS:
    fields: SPSFields
    chroma_format_idc: int
    width: int
    height: int
    bit_depth: int
    conformance_window: bool


def _skip_profile_tier_level(r: BitReader, max_sub_layers_minus1: int) -> None:
    r.u(2 + 1 + 5 + 32 + 4 + 43 + 1 + 8)
    if max_sub_layers_minus1:
        raise FormatError("HEVC streams with sub-layers are not supported")


def parse_sps(nal: bytes) -> ParsedSPS:
    """Read the fields BPG needs from an encoder's SPS NAL (header included)."""
    r = BitReader(unescape(nal), 16)
    if r.u(4) != 0:
        raise FormatError("SPS must refer to VPS 0")
    max_sub_layers_minus1 = r.u(3)
    r.u(1)
    _skip_profile_tier_level(r, max_sub_layers_minus1)
    if r.ue() != 0:
        raise FormatError("SPS id 0 expected")
    chroma = r.ue()
    if chroma == 3 and r.u(1):
        raise FormatError("separate colour planes are not supported")
    width, height = r.ue(), r.ue()
    conf = r.u(1)
    if conf:
        r.ue(); r.ue(); r.ue(); r.ue()
    bd_luma, bd_chroma = r.ue() + 8, r.ue() + 8
    if bd_luma != bd_chroma:
        raise FormatError("luma and chroma bit depths differ")
    r.ue()  # log2_max_pic_order_cnt_lsb_minus4 (irrelevant for intra-only streams)
    sub_layer_info = r.u(1)
    for _ in range(1 if not sub_layer_info else max_sub_layers_minus1 + 1):
        r.ue(); r.ue(); r.ue()
    f = SPSFields()
    f.log2_min_cb_size = r.ue() + 3
    f.log2_diff_max_min_cb_size = r.ue()
    f.log2_min_tb_size = r.ue() + 2
    f.log2_diff_max_min_tb_size = r.ue()
    r.ue()  # max_transform_hierarchy_depth_inter
    f.max_transform_hierarchy_depth_intra = r.ue()
    if r.u(1):
        raise FormatError("scaling lists are not supported by BPG")
    r.u(1)  # amp_enabled_flag
    f.sao_enabled = r.u(1)
    f._read_pcm(r)
    if r.ue() != 0:
        raise FormatError("short-term reference picture sets are not supported")
    if r.u(1):
        raise FormatError("long-term reference pictures are not supported")
    r.u(1)  # sps_temporal_mvp_enabled_flag
    f.strong_intra_smoothing = r.u(1)
    if r.u(1):
        _skip_vui(r)
    f.sps_extension_present = r.u(1)
    if f.sps_extension_present:
        f.sps_range_extension = r.u(1)
        r.u(7)  # other extensions: BPG has no room for them, they carry nothing for intra
        if f.sps_range_extension:
            f.range_extension_flags = r.u(9)
        f.sps_extension_present = int(bool(f.sps_range_extension))
    return ParsedSPS(f, chroma, width, height, bd_luma, bool(conf))


def _skip_vui(r: BitReader) -> None:
    if r.u(1) and r.u(8) == 255:          # aspect_ratio_info_present / idc
        r.u(32)
    if r.u(1):                             # overscan_info_present
        r.u(1)
    if r.u(1):                             # video_signal_type_present
        r.u(4)
        if r.u(1):
            r.u(24)
    if r.u(1):                             # chroma_loc_info_present
        r.ue(); r.ue()
    r.u(3)                                 # neutral_chroma, field_seq, frame_field_info
    if r.u(1):                             # default_display_window
        r.ue(); r.ue(); r.ue(); r.ue()
    if r.u(1):                             # vui_timing_info_present
        r.u(64)
        if r.u(1):
            r.ue()
        if r.u(1):
            raise FormatError("HRD parameters in the SPS are not supported")
    if r.u(1):                             # bitstream_restriction
        r.u(3); r.ue(); r.ue(); r.ue(); r.ue(); r.ue()


@dataclass
class PPSInfo:
    init_qp: int
    cb_qp_offset: int
    cr_qp_offset: int
    cu_qp_delta_enabled: int
    num_extra_slice_header_bits: int
    output_flag_present: int


def parse_pps(nal: bytes) -> PPSInfo:
    r = BitReader(unescape(nal), 16)
    r.ue(); r.ue()                         # pps id, sps id
    r.u(1)                                 # dependent_slice_segments_enabled
    output_flag_present = r.u(1)
    extra_bits = r.u(3)
    r.u(1); r.u(1)                         # sign_data_hiding, cabac_init_present
    r.ue(); r.ue()                         # num_ref_idx defaults
    init_qp = 26 + r.se()
    r.u(1); r.u(1)                         # constrained_intra_pred, transform_skip_enabled
    cu_qp_delta = r.u(1)
    if cu_qp_delta:
        r.ue()
    cb, cr = r.se(), r.se()
    return PPSInfo(init_qp, cb, cr, cu_qp_delta, extra_bits, output_flag_present)


def slice_qp(slice_nal: bytes, pps: PPSInfo, sps: SPSFields, chroma_format_idc: int) -> int:
    """SliceQpY of the first slice of an IDR picture (used to match bpgenc's quantizer)."""
    r = BitReader(unescape(slice_nal), 16)
    if not r.u(1):
        raise FormatError("expected the first slice segment of a picture")
    if 16 <= nal_type(slice_nal) <= 23:
        r.u(1)                             # no_output_of_prior_pics_flag
    r.ue()                                 # slice_pic_parameter_set_id
    r.u(pps.num_extra_slice_header_bits)
    if r.ue() != 2:
        raise FormatError("expected an intra slice")
    if pps.output_flag_present:
        r.u(1)
    if nal_type(slice_nal) not in (19, 20):
        raise FormatError("expected an IDR slice")
    if sps.sao_enabled:
        r.u(1)
        if chroma_format_idc:
            r.u(1)
    return pps.init_qp + r.se()
