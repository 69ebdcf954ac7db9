"""Chapter 03, section 9, on a folder with broken clips (issue 25): a file with NaN samples, a
header claiming 1 Hz and a clip shorter than one window are each skipped with their name, and
the chapter runs on to the end with the good clip."""

from __future__ import annotations

import struct

import nbformat
import numpy as np

from tools.run_chapter import main


def write_bad_clips(folder):
    import soundfile as sf

    folder.mkdir(parents=True)
    sr = 22050
    t = np.arange(sr) / sr
    good = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(folder / "a_good.wav", good, sr, subtype="PCM_16")
    with_nan = good.copy()
    with_nan[500] = np.nan
    sf.write(folder / "b_nan.wav", with_nan, sr, subtype="FLOAT")
    sf.write(folder / "c_short.wav", good[:300], sr, subtype="PCM_16")  # < n_fft at 16 kHz
    liar = folder / "d_one_hertz.wav"
    sf.write(liar, good, sr, subtype="PCM_16")
    raw = bytearray(liar.read_bytes())
    raw[24:32] = struct.pack("<II", 1, 2)  # the fmt chunk's rate and byte rate
    liar.write_bytes(bytes(raw))
    return folder


def test_chapter_03_skips_broken_clips_by_name(tmp_path):
    folder = write_bad_clips(tmp_path / "clips")
    out = tmp_path / "runs"
    params = [f"audio_path={folder}", "world_size=tiny", "max_clips=10"]
    assert main(["03", *params, "--out", str(out), "--quiet"]) == 0
    notebook = nbformat.read(out / "03_audio_features.ipynb", as_version=4)
    printed = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for c in notebook.cells
        for o in c.get("outputs", [])
    )
    assert "skipped b_nan.wav:" in printed and "NaN or infinite samples" in printed
    assert "skipped c_short.wav: " in printed and "fewer than n_fft=1024" in printed
    assert "skipped d_one_hertz.wav:" in printed and "1 Hz is not an audio rate" in printed
    assert "a_good.wav" in printed
